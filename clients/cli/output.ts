import type { Command } from "commander";

/** Where a command writes: stdout for results, stderr for progress and errors. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stdin: NodeJS.ReadableStream;
  /** Environment variables (defaults for options such as the NATS URL). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The process's own streams and environment. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

/** How a command reports: human-readable text, or one JSON document on stdout (`--json`). */
export interface Output {
  readonly json: boolean;
  readonly io: CliIo;
  /**
   * Prints the command's result: `value` as JSON with `--json`, else the lines `human` returns.
   */
  result(value: unknown, human: () => string | readonly string[]): void;
  /** A line for people on stderr (progress notes); nothing with `--json`. */
  note(line: string): void;
}

/** Adds `--json` to a command: one JSON document on stdout instead of text, for scripts. */
export function withJsonOption(command: Command): Command {
  return command.option(
    "--json",
    "print one JSON document on stdout instead of text (for scripts)",
  );
}

/** The output of a command whose options were parsed (`--json` or not). */
export function outputFor(io: CliIo, options: { readonly json?: boolean }): Output {
  const json = options.json === true;
  return {
    json,
    io,
    result(value, human) {
      if (json) {
        io.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
        return;
      }
      const text = human();
      io.stdout.write(`${typeof text === "string" ? text : text.join("\n")}\n`);
    },
    note(line) {
      if (!json) io.stderr.write(`${line}\n`);
    },
  };
}

/** bigint as a decimal string and bytes as hex, so any value prints as JSON. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("hex");
  return value;
}

/** Lines of `label  value` pairs, the labels padded to one column. */
export function table(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(0, ...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`);
}
