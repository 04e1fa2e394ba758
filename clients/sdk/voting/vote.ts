import { sha256 } from "@noble/hashes/sha2.js";
import type { Choice } from "../../../gen/vettid/voting/v1/proposal_pb.js";
import {
  type SignedVote,
  type VotePayload,
  VotePayloadSchema,
} from "../../../gen/vettid/voting/v1/vote_pb.js";
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES } from "./ed25519-strict.js";
import { UUID_PATTERN, VALID_CHOICES } from "./proposal.js";
import { decodeStrict } from "./strict-decode.js";

/** Largest SignedVote.payload (vote.proto). */
export const MAX_VOTE_PAYLOAD_BYTES = 512;
/** Nonce length bounds (vote.proto): at least 128 bits. */
export const MIN_VOTE_NONCE_BYTES = 16;
/** Nonce length bounds (vote.proto). */
export const MAX_VOTE_NONCE_BYTES = 64;
/** cast_at_ms is coarsened to the hour: a multiple of this. */
export const HOUR_MS = 3_600_000;
/** SHA-256 output length: proposal_hash and vote_hash. */
export const HASH_BYTES = 32;

/** A SHA-256 function; node callers pass a faster one ({@link nodeSha256}). */
export type Sha256 = (data: Uint8Array) => Uint8Array;

/** Domain label of vote_hash (vote.proto). */
export const VOTE_HASH_CONTEXT = "vettid-vote-hash-v1";
const VOTE_HASH_PREFIX = new TextEncoder().encode(`${VOTE_HASH_CONTEXT}\0`);

/**
 * vote_hash, the one definition (vote.proto): SHA-256 over the whole signed vote record, so
 * that changing any of its fields (the signatures and the key id too) changes the hash:
 *
 *   SHA-256("vettid-vote-hash-v1" || 0x00 || field(payload) || field(voting_signature) ||
 *           field(enclave_countersignature) || field(UTF-8 enclave_key_id))
 *
 * where field(x) = 4-byte big-endian length of x || x.
 */
export function voteHash(
  vote: Pick<
    SignedVote,
    "payload" | "votingSignature" | "enclaveCountersignature" | "enclaveKeyId"
  >,
  hash: Sha256 = sha256,
): Uint8Array {
  const keyId = new TextEncoder().encode(vote.enclaveKeyId);
  const fields = [vote.payload, vote.votingSignature, vote.enclaveCountersignature, keyId];
  let length = VOTE_HASH_PREFIX.length;
  for (const field of fields) length += 4 + field.length;
  const data = new Uint8Array(length);
  const view = new DataView(data.buffer);
  data.set(VOTE_HASH_PREFIX, 0);
  let offset = VOTE_HASH_PREFIX.length;
  for (const field of fields) {
    view.setUint32(offset, field.length);
    data.set(field, offset + 4);
    offset += 4 + field.length;
  }
  return hash(data);
}

/** The outcome of {@link decodeVotePayload}. */
export type VotePayloadDecoding =
  | { readonly ok: true; readonly payload: VotePayload }
  | { readonly ok: false; readonly problem: string };

/**
 * Decodes and checks a vote payload: at most {@link MAX_VOTE_PAYLOAD_BYTES}, no unknown fields,
 * lowercase UUID proposal_id, 32-byte proposal_hash and voting_public_key, a valid choice, a 16 to
 * 64-byte nonce, cast_at_ms a positive multiple of an hour, revision at least 1. A failure here is
 * VOTE_REJECT_REASON_MALFORMED. Never throws.
 */
export function decodeVotePayload(bytes: Uint8Array): VotePayloadDecoding {
  if (!(bytes instanceof Uint8Array)) return { ok: false, problem: "payload is not bytes" };
  if (bytes.length > MAX_VOTE_PAYLOAD_BYTES) {
    return {
      ok: false,
      problem: `payload is ${bytes.length} bytes, over ${MAX_VOTE_PAYLOAD_BYTES}`,
    };
  }
  const decoded = decodeStrict(VotePayloadSchema, bytes, "vote payload");
  if (!decoded.ok) return decoded;
  const payload = decoded.message;
  const problem = votePayloadProblem(payload);
  return problem === undefined ? { ok: true, payload } : { ok: false, problem };
}

/** What is wrong with a decoded vote payload's fields, or undefined. */
export function votePayloadProblem(payload: VotePayload): string | undefined {
  if (!UUID_PATTERN.test(payload.proposalId)) return "proposal_id is not a lowercase UUID";
  if (payload.proposalHash.length !== HASH_BYTES) return "proposal_hash is not 32 bytes";
  if (!VALID_CHOICES.includes(payload.choice as Choice)) return "choice is not YES, NO or ABSTAIN";
  if (payload.votingPublicKey.length !== ED25519_PUBLIC_KEY_BYTES) {
    return "voting_public_key is not 32 bytes";
  }
  if (payload.nonce.length < MIN_VOTE_NONCE_BYTES || payload.nonce.length > MAX_VOTE_NONCE_BYTES) {
    return `nonce is ${payload.nonce.length} bytes; must be ${MIN_VOTE_NONCE_BYTES} to ${MAX_VOTE_NONCE_BYTES}`;
  }
  if (payload.castAtMs <= 0n || payload.castAtMs % BigInt(HOUR_MS) !== 0n) {
    return "cast_at_ms is not a positive multiple of an hour";
  }
  if (payload.revision < 1) return "revision is 0";
  return undefined;
}

/** A countersigning key id: lowercase hex SHA-256 of the raw public key. */
export const ENCLAVE_KEY_ID_PATTERN = /^[0-9a-f]{64}$/;

/** What is wrong with a SignedVote's envelope (signature sizes, key id), or undefined. */
export function signedVoteShapeProblem(vote: SignedVote): string | undefined {
  if (vote.votingSignature.length !== ED25519_SIGNATURE_BYTES)
    return "voting_signature is not 64 bytes";
  if (vote.enclaveCountersignature.length !== ED25519_SIGNATURE_BYTES) {
    return "enclave_countersignature is not 64 bytes";
  }
  if (!ENCLAVE_KEY_ID_PATTERN.test(vote.enclaveKeyId)) {
    return "enclave_key_id is not 64 lowercase hex digits";
  }
  return undefined;
}
