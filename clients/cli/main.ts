/**
 * The `vettid` command. Each command lives in `commands/` and exports a `register…(program)`
 * function; this list is the whole command set, in the order `--help` shows it.
 */
import { registerControl } from "./commands/control.js";
import { registerVerifyAttestation } from "./commands/verify-attestation.js";
import { type RegisterCommand, runCli } from "./program.js";

const COMMANDS: readonly RegisterCommand[] = [registerVerifyAttestation, registerControl];

process.exitCode = await runCli(process.argv, COMMANDS);
