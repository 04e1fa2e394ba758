/**
 * Exit codes of the `vettid` command: scripts branch on them, so they are part of its interface
 * and never change meaning.
 */
export const EXIT_CODES = {
  /** Done, and what was checked holds (the document verifies, the vault unlocked, …). */
  ok: 0,
  /** Ran, and the answer is no: a refused attestation, a wrong PIN, a rejected command, an error from the vault or backend. */
  failed: 1,
  /** The command line or an input file is wrong (unknown option, unreadable or malformed file). */
  usage: 2,
  /** Could not reach NATS, the backend or the vault in time; trying again later may work. */
  unavailable: 3,
} as const;

/** One of {@link EXIT_CODES}. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/**
 * An error the CLI reports as it is: `message` for people, `code` (a short stable word) for
 * `--json`, and the process exit code.
 */
export class CliError extends Error {
  override readonly name = "CliError";
  /** True when the command already printed the outcome (its result says why): print nothing more. */
  readonly reported: boolean;
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly code: string,
    options: { readonly cause?: unknown; readonly reported?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reported = options.reported === true;
  }
}

/** A usage error: bad arguments or an input file that cannot be used. Exit code 2. */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT_CODES.usage, "usage");
}
