import { ed25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { UUID_PATTERN, VOTING_KEY_INFO } from "../../clients/sdk/voting/index.js";

/** Length of the identity key's RFC 8032 seed, and of the derived voting seed. */
export const ED25519_SEED_BYTES = 32;

const encoder = new TextEncoder();

/** A per-proposal voting key pair. Wipe `seed` when done (`seed.fill(0)`). */
export interface VotingKeyPair {
  /** The voting private key: a 32-byte RFC 8032 seed. Secret. */
  readonly seed: Uint8Array;
  /** The voting public key: raw 32-byte Ed25519. */
  readonly publicKey: Uint8Array;
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
  return { seed, publicKey: ed25519.getPublicKey(seed) };
}
