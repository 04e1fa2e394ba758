import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex } from "./bytes.js";

/**
 * Strict RFC 8032 Ed25519 checks that libraries differ on, done explicitly so that every verifier
 * of votes (backend, CLI, browser) accepts exactly the same signatures whichever library does the
 * curve arithmetic: canonical encodings only, and no small-order public keys.
 *
 * - node:crypto (OpenSSL) accepts small-order public keys (12 of the ZIP-215 cases);
 * - noble's default (`zip215: true`) accepts non-canonical encodings;
 * - noble with `zip215: false` follows RFC 8032 but, like RFC 8032, accepts small-order keys.
 *
 * A small-order key verifies signatures that were never made by a private key (the all-zero
 * signature under the identity point verifies any message), so a vote under one proves nothing.
 */

/** Ed25519 public key length (RFC 8032). */
export const ED25519_PUBLIC_KEY_BYTES = 32;
/** Ed25519 signature length (RFC 8032). */
export const ED25519_SIGNATURE_BYTES = 64;

/** The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const ORDER_L = littleEndian(2n ** 252n + 27742317777372353535851937790883648493n);
/** The field prime p = 2^255 - 19, little-endian. */
const PRIME_P = littleEndian(2n ** 255n - 19n);

function littleEndian(value: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let v = value;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Whether the 32-byte little-endian number `a` is below `b`. */
function lessThan(a: Uint8Array, b: Uint8Array, topMask = 0xff): boolean {
  for (let i = 31; i >= 0; i--) {
    const x = (a[i] as number) & (i === 31 ? topMask : 0xff);
    const y = b[i] as number;
    if (x !== y) return x < y;
  }
  return false;
}

/**
 * The y-coordinates (sign bit cleared, hex) of the eight points of the curve's 8-torsion
 * subgroup: the small-order points. Derived with noble's group operations rather than copied
 * from a list: for a point P outside the prime-order subgroup, [L]P lies in the torsion
 * subgroup; one of order 8 generates all of it. (Five distinct y values: the identity, the
 * point of order 2, the two of order 4 share y = 0, the four of order 8 share two.)
 */
const SMALL_ORDER_Y: ReadonlySet<string> = (() => {
  const Point = ed25519.Point;
  const lMinusOne = 2n ** 252n + 27742317777372353535851937790883648493n - 1n;
  for (let counter = 0; counter < 1000; counter++) {
    const candidate = sha256(new TextEncoder().encode(`vettid-torsion-search-${counter}`));
    let point: InstanceType<typeof Point>;
    try {
      point = Point.fromBytes(candidate, true);
    } catch {
      continue;
    }
    const torsion = point.multiplyUnsafe(lMinusOne).add(point);
    if (torsion.double().double().is0()) continue; // order below 8: try another point
    const ys = new Set<string>();
    let multiple = Point.ZERO;
    for (let k = 0; k < 8; k++) {
      const bytes = multiple.toBytes();
      bytes[31] = (bytes[31] as number) & 0x7f;
      ys.add(toHex(bytes));
      multiple = multiple.add(torsion);
    }
    if (!multiple.is0() || ys.size !== 5)
      throw new Error("ed25519 torsion subgroup derivation failed");
    return ys;
  }
  throw new Error("ed25519 torsion subgroup derivation found no point of order 8L");
})();

/**
 * What makes `publicKey` unacceptable as a strict Ed25519 key, or undefined: not 32 bytes, a
 * non-canonical encoding (y ≥ p), or a point of small order (including the invalid "negative
 * zero" encodings of x = 0, which are small-order points too).
 */
export function ed25519PublicKeyProblem(publicKey: Uint8Array): string | undefined {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== ED25519_PUBLIC_KEY_BYTES) {
    return `public key must be ${ED25519_PUBLIC_KEY_BYTES} bytes`;
  }
  if (!lessThan(publicKey, PRIME_P, 0x7f)) return "public key is a non-canonical encoding (y >= p)";
  const y = publicKey.slice();
  y[31] = (y[31] as number) & 0x7f;
  if (SMALL_ORDER_Y.has(toHex(y))) return "public key is a point of small order";
  return undefined;
}

/**
 * What makes `signature` malformed under strict RFC 8032, or undefined: not 64 bytes, or S ≥ L
 * (a malleable encoding). A non-canonical R never verifies (verifiers compare R by its encoding).
 */
export function ed25519SignatureProblem(signature: Uint8Array): string | undefined {
  if (!(signature instanceof Uint8Array) || signature.length !== ED25519_SIGNATURE_BYTES) {
    return `signature must be ${ED25519_SIGNATURE_BYTES} bytes`;
  }
  if (!lessThan(signature.subarray(32, 64), ORDER_L)) return "signature scalar S is not below L";
  return undefined;
}

/** A strict Ed25519 verification function: true only for a valid signature under strict rules. */
export type Ed25519Verify = (
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
) => boolean;

/**
 * Verifies an Ed25519 signature under strict RFC 8032 rules with small-order keys refused, with
 * noble (`zip215: false`). Portable (browsers too); about 15 times slower than
 * {@link verifyEd25519Node}. Never throws: malformed input is false.
 */
export const verifyEd25519Strict: Ed25519Verify = (signature, message, publicKey) => {
  if (ed25519PublicKeyProblem(publicKey) !== undefined) return false;
  if (ed25519SignatureProblem(signature) !== undefined) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
};
