import { sha256 } from "@noble/hashes/sha2.js";
import type { Choice } from "../../../gen/vettid/voting/v1/proposal_pb.js";
import type { PublishedVote } from "../../../gen/vettid/voting/v1/vote_list_pb.js";
import type { SignedVote, VotePayload } from "../../../gen/vettid/voting/v1/vote_pb.js";
import { equalBytes } from "./bytes.js";
import { type Ed25519Verify, verifyEd25519Strict } from "./ed25519-strict.js";
import { signedMessage, VOTE_COUNTERSIGNATURE_CONTEXT, VOTE_SIGNATURE_CONTEXT } from "./labels.js";
import { decodeVotePayload, type Sha256, signedVoteShapeProblem, voteHash } from "./vote.js";

/** The proposal a vote is checked against: from its verified SignedProposal. */
export interface VoteProposal {
  readonly proposalId: string;
  /** SHA-256 of the SignedProposal's payload bytes. */
  readonly proposalHash: Uint8Array;
  /** The proposal's choices. */
  readonly choices: readonly Choice[];
}

/** Verifies a countersignature with an already checked enclave key. */
export type CountersignatureVerify = (signature: Uint8Array, message: Uint8Array) => boolean;

/** What checking a signed vote needs besides the vote. */
export interface SignedVoteCheckOptions {
  /** The verifier of each trusted enclave key id (certificates checked beforehand), or undefined. */
  readonly countersignatureVerifier: (keyId: string) => CountersignatureVerify | undefined;
  /** Strict Ed25519 for the voting signature. Default {@link verifyEd25519Strict}. */
  readonly verifyEd25519?: Ed25519Verify;
  /** Default noble's SHA-256. */
  readonly hash?: Sha256;
}

/** Why a signed vote failed {@link checkSignedVote}; each maps onto a VoteRejectReason. */
export type SignedVoteFailure =
  | "malformed"
  | "proposal_mismatch"
  | "proposal_hash_mismatch"
  | "choice_not_allowed"
  | "unknown_enclave_key"
  | "bad_countersignature"
  | "bad_voting_signature";

/** The outcome of {@link checkSignedVote}. */
export type SignedVoteCheck =
  | { readonly ok: true; readonly payload: VotePayload; readonly voteHash: Uint8Array }
  | { readonly ok: false; readonly failure: SignedVoteFailure; readonly problem: string };

/**
 * Checks one signed vote against its proposal, as the backend at intake and every auditor do
 * (vote.proto): the payload decodes and is well formed; it names this proposal and its
 * proposal_hash; the choice is one of the proposal's; the enclave key is a trusted one and its
 * countersignature verifies ("vettid-vote-countersig-v1"); the voting signature verifies under
 * strict RFC 8032 rules with small-order keys refused ("vettid-vote-sig-v1"). Cheap checks first.
 * Never throws.
 */
export function checkSignedVote(
  vote: SignedVote | undefined,
  proposal: VoteProposal,
  options: SignedVoteCheckOptions,
): SignedVoteCheck {
  if (vote === undefined)
    return { ok: false, failure: "malformed", problem: "signed vote is missing" };
  const shape = signedVoteShapeProblem(vote);
  if (shape !== undefined) return { ok: false, failure: "malformed", problem: shape };
  const decoded = decodeVotePayload(vote.payload);
  if (!decoded.ok) return { ok: false, failure: "malformed", problem: decoded.problem };
  const payload = decoded.payload;
  if (payload.proposalId !== proposal.proposalId) {
    return { ok: false, failure: "proposal_mismatch", problem: "the vote is for another proposal" };
  }
  if (!equalBytes(payload.proposalHash, proposal.proposalHash)) {
    return {
      ok: false,
      failure: "proposal_hash_mismatch",
      problem: "proposal_hash is not SHA-256 of the signed proposal",
    };
  }
  if (!proposal.choices.includes(payload.choice)) {
    return {
      ok: false,
      failure: "choice_not_allowed",
      problem: "the choice is not one of the proposal's",
    };
  }
  const countersignature = options.countersignatureVerifier(vote.enclaveKeyId);
  if (countersignature === undefined) {
    return {
      ok: false,
      failure: "unknown_enclave_key",
      problem: `enclave key ${vote.enclaveKeyId.slice(0, 16)}… has no valid certificate`,
    };
  }
  if (
    !countersignature(
      vote.enclaveCountersignature,
      signedMessage(VOTE_COUNTERSIGNATURE_CONTEXT, vote.payload),
    )
  ) {
    return {
      ok: false,
      failure: "bad_countersignature",
      problem: "the enclave countersignature does not verify",
    };
  }
  const verify = options.verifyEd25519 ?? verifyEd25519Strict;
  if (
    !verify(
      vote.votingSignature,
      signedMessage(VOTE_SIGNATURE_CONTEXT, vote.payload),
      payload.votingPublicKey,
    )
  ) {
    return {
      ok: false,
      failure: "bad_voting_signature",
      problem: "the voting signature does not verify (strict RFC 8032, small-order keys refused)",
    };
  }
  return { ok: true, payload, voteHash: voteHash(vote, options.hash ?? sha256) };
}

/** The outcome of {@link checkPublishedVote}. */
export type PublishedVoteCheck =
  | {
      readonly ok: true;
      readonly voteHash: Uint8Array;
      readonly choice: Choice;
      readonly votingPublicKey: Uint8Array;
    }
  | { readonly ok: false; readonly problem: string };

/**
 * Checks one entry of a published list (vote_list.proto, audit step 2): {@link checkSignedVote},
 * then that the entry's vote_hash, choice and voting_public_key are the signed vote's.
 */
export function checkPublishedVote(
  entry: PublishedVote,
  proposal: VoteProposal,
  options: SignedVoteCheckOptions,
): PublishedVoteCheck {
  const checked = checkSignedVote(entry.signedVote, proposal, options);
  if (!checked.ok) return checked;
  if (!equalBytes(entry.voteHash, checked.voteHash)) {
    return { ok: false, problem: "vote_hash is not the hash of the signed vote record" };
  }
  if (entry.choice !== checked.payload.choice) {
    return { ok: false, problem: "the listed choice differs from the signed choice" };
  }
  if (!equalBytes(entry.votingPublicKey, checked.payload.votingPublicKey)) {
    return { ok: false, problem: "the listed voting_public_key differs from the signed one" };
  }
  return {
    ok: true,
    voteHash: checked.voteHash,
    choice: checked.payload.choice,
    votingPublicKey: checked.payload.votingPublicKey,
  };
}
