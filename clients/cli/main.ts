/**
 * The `vettid` command. Each command lives in `commands/` and exports a `register…(program)`
 * function; this list is the whole command set, in the order `--help` shows it.
 */
import { registerControl } from "./commands/control.js";
import { registerEnroll } from "./commands/enroll.js";
import { registerSecrets } from "./commands/secrets.js";
import { registerUnlock } from "./commands/unlock.js";
import { registerVault } from "./commands/vault.js";
import { registerVerifyAttestation } from "./commands/verify-attestation.js";
import { registerVerifyVotes } from "./commands/verify-votes.js";
import { type RegisterCommand, runCli } from "./program.js";

const COMMANDS: readonly RegisterCommand[] = [
  registerEnroll,
  registerUnlock,
  registerVault,
  registerSecrets,
  registerVerifyAttestation,
  registerVerifyVotes,
  registerControl,
];

process.exitCode = await runCli(process.argv, COMMANDS);
