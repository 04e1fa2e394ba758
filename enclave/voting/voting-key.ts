import { createPrivateKey, createPublicKey, type KeyObject, sign } from "node:crypto";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { UUID_PATTERN, VOTING_KEY_INFO } from "../../clients/sdk/voting/index.js";

/** Length of the identity key's RFC 8032 seed, and of the derived voting seed. */
export const ED25519_SEED_BYTES = 32;

/** DER prefix of an Ed25519 PKCS#8 private key (RFC 8410 §7): the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

const encoder = new TextEncoder();

/** A per-proposal voting key pair. Call `wipe()` when done. */
export interface VotingKeyPair {
  /** The voting private key: a 32-byte RFC 8032 seed. Secret. */
  readonly seed: Uint8Array;
  /** The voting public key: raw 32-byte Ed25519. */
  readonly publicKey: Uint8Array;
  /** Ed25519 signature (RFC 8032, deterministic) of `message` with the voting key. */
  sign(message: Uint8Array): Uint8Array;
  /** Zeroes the seed (the key object is released with it and cleared by OpenSSL when freed). */
  wipe(): void;
}

/**
 * Derives the member's voting key for one proposal (vote.proto), byte for byte:
 *
 *   seed = HKDF-SHA-256(IKM  = the identity key's 32-byte RFC 8032 seed,
 *                       salt = the 36 ASCII bytes of the lowercase proposal_id UUID,
 *                       info = the 14 ASCII bytes "vettid-vote-v1",
 *                       L    = 32)
 *   voting key pair = the Ed25519 key pair of `seed` (RFC 8032 §5.1.5)
 *
 * Deterministic, so a member has exactly one voting key per proposal (one vote, replaceable);
 * without the identity private key the voting public key cannot be linked to the identity key.
 * The key pair is node:crypto's (OpenSSL), imported from the seed as PKCS#8 (RFC 8410).
 *
 * @throws TypeError when the identity seed is not 32 bytes or proposalId not a lowercase UUID.
 */
export function deriveVotingKey(identitySeed: Uint8Array, proposalId: string): VotingKeyPair {
  if (!(identitySeed instanceof Uint8Array) || identitySeed.length !== ED25519_SEED_BYTES) {
    throw new TypeError("identity private key must be its 32-byte RFC 8032 seed");
  }
  if (typeof proposalId !== "string" || !UUID_PATTERN.test(proposalId)) {
    throw new TypeError("proposalId must be a lowercase UUID string");
  }
  const seed = hkdf(
    sha256,
    identitySeed,
    encoder.encode(proposalId),
    encoder.encode(VOTING_KEY_INFO),
    32,
  );
  const key = ed25519KeyFromSeed(seed);
  const publicKey = ed25519PublicKey(key);
  return {
    seed,
    publicKey,
    sign: (message) => new Uint8Array(sign(null, message, key)),
    wipe: () => seed.fill(0),
  };
}

/** An Ed25519 private key object of a 32-byte seed (PKCS#8, RFC 8410). The DER copy is wiped. */
export function ed25519KeyFromSeed(seed: Uint8Array): KeyObject {
  const der = Buffer.concat([ED25519_PKCS8_PREFIX, seed]);
  try {
    return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  } finally {
    der.fill(0);
  }
}

/** The raw 32-byte public key of an Ed25519 key object. */
export function ed25519PublicKey(key: KeyObject): Uint8Array {
  const x = createPublicKey(key).export({ format: "jwk" }).x;
  return new Uint8Array(Buffer.from(String(x), "base64url"));
}
