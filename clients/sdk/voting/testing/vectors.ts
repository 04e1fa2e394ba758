import { readFileSync } from "node:fs";

/** Reads a JSON file of `testdata/` (test-only). */
export function readTestdata<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../testdata/${name}`, import.meta.url), "utf8")) as T;
}

/** Bytes of hex (test-only; throws on bad hex). */
export function hex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "hex"));
}
