import { p256 } from "@noble/curves/nist.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { equalBytes, fromHex, toHex } from "./bytes.js";

/**
 * ECDSA P-256 / SHA-256 as AWS KMS produces it (`ECDSA_SHA_256`): DER signatures that are NOT
 * low-S normalised, so verification accepts both halves of s. Keys travel as DER
 * SubjectPublicKeyInfo (what KMS `GetPublicKey` returns) and are named by their key id.
 */

/** The DER prefix of every P-256 SubjectPublicKeyInfo with an uncompressed point (RFC 5480). */
export const P256_SPKI_PREFIX = fromHex(
  "3059301306072a8648ce3d020106082a8648ce3d030107034200",
) as Uint8Array;

/** Length of a P-256 SPKI: the prefix and a 65-byte uncompressed point. */
export const P256_SPKI_BYTES = P256_SPKI_PREFIX.length + 65;

/** Longest DER ECDSA P-256 signature: SEQUENCE of two 33-byte INTEGERs. */
export const MAX_P256_DER_SIGNATURE_BYTES = 72;

/**
 * The raw uncompressed point (65 bytes) of a P-256 DER SPKI, or a problem naming what is wrong:
 * not the RFC 5480 encoding of an id-ecPublicKey / prime256v1 key, or not a point on the curve.
 */
export function p256PointFromSpki(
  spki: Uint8Array,
): { ok: true; point: Uint8Array } | { ok: false; problem: string } {
  if (!(spki instanceof Uint8Array) || spki.length !== P256_SPKI_BYTES) {
    return { ok: false, problem: `a P-256 SPKI is ${P256_SPKI_BYTES} bytes` };
  }
  if (!equalBytes(spki.subarray(0, P256_SPKI_PREFIX.length), P256_SPKI_PREFIX)) {
    return {
      ok: false,
      problem: "not an id-ecPublicKey prime256v1 SPKI with an uncompressed point",
    };
  }
  const point = spki.slice(P256_SPKI_PREFIX.length);
  try {
    p256.Point.fromBytes(point).assertValidity();
  } catch {
    return { ok: false, problem: "the SPKI's point is not on P-256" };
  }
  return { ok: true, point };
}

/** The DER SPKI of a raw 65-byte uncompressed P-256 point. */
export function p256SpkiFromPoint(point: Uint8Array): Uint8Array {
  if (point.length !== 65 || point[0] !== 0x04) {
    throw new TypeError("point must be a 65-byte uncompressed P-256 point");
  }
  const spki = new Uint8Array(P256_SPKI_BYTES);
  spki.set(P256_SPKI_PREFIX);
  spki.set(point, P256_SPKI_PREFIX.length);
  return spki;
}

/** Key id of a backend key: lowercase hex SHA-256 of its DER SPKI (signature.proto). */
export function keyIdOfSpki(spki: Uint8Array): string {
  return toHex(sha256(spki));
}

/**
 * What is wrong with `signature` as a strict DER ECDSA signature (SEQUENCE { INTEGER r,
 * INTEGER s }, definite minimal lengths, minimal positive integers, nothing after it, r and s in
 * [1, n)), or undefined when it is well formed. For error messages: verification checks it too.
 */
export function derSignatureProblem(signature: Uint8Array): string | undefined {
  if (!(signature instanceof Uint8Array)) return "signature must be bytes";
  if (signature.length < 8 || signature.length > MAX_P256_DER_SIGNATURE_BYTES) {
    return `DER signature is ${signature.length} bytes; expected 8 to ${MAX_P256_DER_SIGNATURE_BYTES}`;
  }
  if (signature[0] !== 0x30) return "DER signature does not start with a SEQUENCE";
  if (signature[1] !== signature.length - 2) {
    return "DER SEQUENCE length does not match the signature's length (or is not minimal)";
  }
  let offset = 2;
  for (const name of ["r", "s"]) {
    if (signature[offset] !== 0x02) return `DER ${name} is not an INTEGER`;
    const length = signature[offset + 1] ?? 0;
    if (length === 0 || length > 33 || offset + 2 + length > signature.length) {
      return `DER ${name} has a bad length`;
    }
    const first = signature[offset + 2] as number;
    if (first & 0x80) return `DER ${name} is negative`;
    if (length > 1 && first === 0 && ((signature[offset + 3] as number) & 0x80) === 0) {
      return `DER ${name} is not minimally encoded`;
    }
    const value = BigInt(`0x${toHex(signature.subarray(offset + 2, offset + 2 + length))}`);
    if (value === 0n || value >= p256.Point.CURVE().n) return `DER ${name} is not in [1, n)`;
    offset += 2 + length;
  }
  if (offset !== signature.length) return "DER signature has bytes after s";
  return undefined;
}

/**
 * Verifies a DER ECDSA P-256 / SHA-256 signature over `message` (hashed here, as KMS hashes a RAW
 * message), accepting high-S. `publicKey` is the raw 65-byte point. Never throws.
 */
export function verifyP256Der(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (derSignatureProblem(signature) !== undefined) return false;
  try {
    return p256.verify(signature, message, publicKey, { format: "der", lowS: false });
  } catch {
    return false;
  }
}
