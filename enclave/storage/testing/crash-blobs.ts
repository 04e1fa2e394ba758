/**
 * Test-only: the objects the crash test writes. Each is a function of its sequence number alone,
 * so a reader can tell a complete object from a torn or mixed one: 8 bytes of sequence number,
 * 4 bytes of length, then AES-CTR keystream keyed by the sequence number (every region differs,
 * and from every other object's).
 */
import { createCipheriv, createHash } from "node:crypto";

/** Smallest object written. */
const MIN_BYTES = 256 * 1024;

/** Objects are MIN_BYTES plus up to this many bytes, so that writes take long enough to be hit. */
const SPREAD_BYTES = 3 * 1024 * 1024;

/** The object with sequence number `sequence`. */
export function crashBlob(sequence: number): Uint8Array {
  const length = MIN_BYTES + ((sequence * 7919) % SPREAD_BYTES);
  const key = createHash("sha256").update(`crash-blob-${sequence}`).digest().subarray(0, 16);
  const cipher = createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
  const blob = Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
  blob.writeBigUInt64BE(BigInt(sequence), 0);
  blob.writeUInt32BE(length, 8);
  return new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength);
}

/** The sequence number `data` claims to be (check it with {@link crashBlob}). */
export function crashBlobSequence(data: Uint8Array): number {
  if (data.byteLength < 12) return -1;
  return Number(Buffer.from(data.buffer, data.byteOffset, 8).readBigUInt64BE(0));
}
