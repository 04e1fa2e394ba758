import { readFile } from "node:fs/promises";
import { REQUIRED_SET_PCRS } from "../sdk/attestation/index.js";
import { usageError } from "./exit-codes.js";
import type { CliIo } from "./output.js";

/** Largest input file the CLI reads: 1 MiB, far above any document or list it takes. */
export const MAX_INPUT_BYTES = 1024 * 1024;

/** Reads `path` (or stdin for `-`), at most {@link MAX_INPUT_BYTES}. @throws CliError (usage). */
export async function readInput(path: string, io: CliIo, what: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = path === "-" ? await readStream(io.stdin) : new Uint8Array(await readFile(path));
  } catch (error) {
    const reason =
      (error as { code?: string }).code === "ENOENT"
        ? "no such file"
        : String((error as Error).message);
    throw usageError(`cannot read ${what} ${path}: ${reason}`);
  }
  if (bytes.length > MAX_INPUT_BYTES) {
    throw usageError(`${what} ${path} is ${bytes.length} bytes; at most ${MAX_INPUT_BYTES}`);
  }
  return bytes;
}

async function readStream(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    const buffer =
      typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
    length += buffer.length;
    if (length > MAX_INPUT_BYTES) break;
    chunks.push(buffer);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * Binary input given raw or as base64 text (standard or URL-safe, padded or not, whitespace
 * ignored). `looksBinary` says whether the bytes are already the raw form.
 *
 * @throws CliError (usage) when the text is not base64.
 */
export function binaryOrBase64(
  bytes: Uint8Array,
  looksBinary: (bytes: Uint8Array) => boolean,
  what: string,
): Uint8Array {
  if (bytes.length > 0 && looksBinary(bytes)) return bytes;
  const text = Buffer.from(bytes).toString("latin1").replace(/\s+/g, "");
  if (text.length === 0) throw usageError(`${what} is empty`);
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text) || text.length % 4 === 1) {
    throw usageError(`${what} is neither raw CBOR nor base64 text`);
  }
  return new Uint8Array(Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64"));
}

/** Bytes from hex (an even number of hex digits, `:` separators allowed). @throws CliError. */
export function hexArgument(value: string, what: string): Uint8Array {
  const digits = value.replaceAll(":", "");
  if (!/^([0-9a-fA-F]{2})*$/.test(digits))
    throw usageError(`${what} must be hex, got ${JSON.stringify(value)}`);
  return new Uint8Array(Buffer.from(digits, "hex"));
}

/** A time given as ISO 8601 (`2022-11-09T23:00:00Z`), in ms since the epoch. @throws CliError. */
export function isoTimeArgument(value: string, what: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw usageError(
      `${what} must be an ISO 8601 time such as 2022-11-09T23:00:00Z, got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

/** A positive number of seconds, in ms. @throws CliError. */
export function secondsArgument(value: string, what: string): number {
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(seconds) || seconds <= 0) {
    throw usageError(`${what} must be a positive number of seconds, got ${JSON.stringify(value)}`);
  }
  return Math.round(seconds * 1000);
}

/** Commander's collector for repeatable options (`--pcr 0=… --pcr 1=…`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * `--pcr INDEX=HEX` options (48-byte values) as a PCR map; empty when none were given. When some
 * are, PCR0, 1 and 2 must be among them (together they identify a build). @throws CliError.
 */
export function pcrArguments(entries: readonly string[] | undefined): Record<number, Uint8Array> {
  const pcrs: Record<number, Uint8Array> = {};
  for (const entry of entries ?? []) {
    const match = /^(\d{1,2})=([0-9a-fA-F:]+)$/.exec(entry);
    if (match === null) throw usageError(`--pcr must be INDEX=HEX, got ${JSON.stringify(entry)}`);
    const value = hexArgument(match[2] as string, `--pcr ${match[1]}`);
    if (value.length !== 48) throw usageError(`--pcr ${match[1]} must be 48 bytes (96 hex digits)`);
    pcrs[Number(match[1])] = value;
  }
  if (Object.keys(pcrs).length > 0) {
    for (const index of REQUIRED_SET_PCRS) {
      if (pcrs[index] === undefined)
        throw usageError(`--pcr must include PCR${index} (PCR0, 1 and 2 identify a build)`);
    }
  }
  return pcrs;
}
