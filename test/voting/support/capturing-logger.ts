import type { Logger } from "../../../server/logging/index.js";

/** Test-only: a logger that keeps every line it would have written, exactly as JSON text. */
export function createCapturingLogger(component: string): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  const write =
    (level: string) =>
    (event: string, fields: Readonly<Record<string, unknown>> = {}) => {
      lines.push(
        JSON.stringify({ level, event, component, ...fields }, (_key, value: unknown) => {
          if (typeof value === "bigint") return value.toString();
          if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
          return value;
        }),
      );
    };
  return { lines, info: write("info"), warn: write("warn"), error: write("error") };
}
