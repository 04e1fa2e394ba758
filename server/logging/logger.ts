/**
 * What the backend logs through: an event name and a few fields, one JSON line each (CloudWatch
 * and `jq` read them as they are). Callers never pass secrets, keys, tokens or request contents:
 * ids, codes and counts only.
 */
export interface Logger {
  info(event: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(event: string, fields?: Readonly<Record<string, unknown>>): void;
  error(event: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** A logger writing JSON lines (`{"level","event","component",…}`) to stdout / stderr. */
export function createConsoleLogger(component: string): Logger {
  const write =
    (level: "info" | "warn" | "error") =>
    (event: string, fields: Readonly<Record<string, unknown>> = {}) => {
      const line = JSON.stringify({ level, event, component, ...fields }, jsonSafe);
      if (level === "info") process.stdout.write(`${line}\n`);
      else process.stderr.write(`${line}\n`);
    };
  return { info: write("info"), warn: write("warn"), error: write("error") };
}

/** A logger that drops everything (tests that assert on output pass their own). */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** The name and message of an error, for a log field (never its stack or its cause's data). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  return value;
}
