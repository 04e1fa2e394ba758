import { readFileSync } from "node:fs";
import { Code, ConnectError } from "@connectrpc/connect";
import { Command, CommanderError } from "commander";
import { CliError, EXIT_CODES, type ExitCode } from "./exit-codes.js";
import { type CliIo, processIo } from "./output.js";

/**
 * Adds one command (or a group of them) to the `vettid` program. Each file in `commands/` exports
 * one of these, and `main.ts` lists them: to add a command, write its file and add it to the list.
 * Actions throw {@link CliError} for failures they explain themselves; anything else thrown is
 * reported by {@link runCli} with an exit code from {@link exitCodeOf}.
 */
export type RegisterCommand = (program: Command, io: CliIo) => void;

const VERSION = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

/** The `vettid` program without its commands: name, version, help and error behaviour. */
export function createProgram(io: CliIo = processIo()): Command {
  return new Command("vettid")
    .description(
      "VettID Vault Services from a terminal: verify enclave attestations, enroll, unlock and use a vault, and send signed operator control commands.",
    )
    .version(VERSION, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help for the command")
    .showHelpAfterError("(add --help for usage)")
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride();
}

/**
 * Runs the `vettid` command line `argv` (as `process.argv`: node, script, arguments…) with the
 * given commands, and returns the exit code instead of exiting: usage errors 2, failures 1,
 * unreachable services 3 (see {@link EXIT_CODES}).
 */
export async function runCli(
  argv: readonly string[],
  commands: readonly RegisterCommand[],
  io: CliIo = processIo(),
): Promise<ExitCode> {
  const program = createProgram(io);
  for (const register of commands) register(program, io);
  const json = argv.includes("--json");
  try {
    await program.parseAsync([...argv]);
    return EXIT_CODES.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its message (or the help) already.
      return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
    }
    const exitCode = exitCodeOf(error);
    if (error instanceof CliError && error.reported) return exitCode;
    const message = messageOf(error);
    if (json) {
      io.stdout.write(
        `${JSON.stringify({ error: { code: codeOf(error), message }, exitCode }, null, 2)}\n`,
      );
    } else {
      io.stderr.write(`vettid: ${message}\n`);
    }
    return exitCode;
  }
}

/**
 * The exit code for an error thrown by a command: a {@link CliError}'s own; `unavailable` (3) for
 * Connect's `unavailable` and `deadline_exceeded` and for connection failures; `failed` (1) for
 * everything else.
 */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof ConnectError) {
    return error.code === Code.Unavailable || error.code === Code.DeadlineExceeded
      ? EXIT_CODES.unavailable
      : EXIT_CODES.failed;
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (
    typeof code === "string" &&
    ["CONNECTION_REFUSED", "ECONNREFUSED", "ENOTFOUND", "TIMEOUT", "ETIMEDOUT"].includes(code)
  ) {
    return EXIT_CODES.unavailable;
  }
  return EXIT_CODES.failed;
}

function codeOf(error: unknown): string {
  if (error instanceof CliError) return error.code;
  if (error instanceof ConnectError) return Code[error.code] ?? "unknown";
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "failed";
}

function messageOf(error: unknown): string {
  if (error instanceof ConnectError) {
    return `${error.rawMessage} (${Code[error.code] ?? error.code})`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
