import { base64Decode, base64Encode } from "@bufbuild/protobuf/wire";

/** Hex of `bytes`, lowercase. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

/** Bytes of lowercase or uppercase hex; undefined when `text` is not an even run of hex digits. */
export function fromHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Node's Buffer when running on Node (much faster base64), undefined in browsers. */
const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;

/** Standard base64 with padding (the protobuf JSON mapping of `bytes`). */
export function toBase64(bytes: Uint8Array): string {
  if (NodeBuffer !== undefined) {
    return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  }
  return base64Encode(bytes);
}

/** Whether `text` is base64 (standard or URL-safe, padded or not) as protobuf JSON accepts it. */
export function isBase64(text: string): boolean {
  return /^[A-Za-z0-9+/_-]*={0,2}$/.test(text) && text.length % 4 !== 1;
}

/** Bytes of base64 (standard or URL-safe); undefined for anything else. */
export function fromBase64(text: string): Uint8Array | undefined {
  if (!isBase64(text)) return undefined;
  if (NodeBuffer !== undefined) {
    const decoded = NodeBuffer.from(text, "base64");
    return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength);
  }
  return base64Decode(text);
}

/** Whether two byte arrays hold the same bytes. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** Lexicographic byte order (negative, zero, positive), the order of vote hashes in a list. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** `ab12cd34…` — the first bytes of a hash in hex, for messages that name a vote. */
export function shortHex(bytes: Uint8Array, length = 8): string {
  return `${toHex(bytes.subarray(0, length))}…`;
}
