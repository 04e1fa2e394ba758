import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { randomBytes } from "@noble/hashes/utils.js";
import {
  HOUR_MS,
  MAX_VOTE_PAYLOAD_BYTES,
  signedMessage,
  type TrustedKeys,
  VOTE_SIGNATURE_CONTEXT,
  verifySignedProposal,
  verifySubscriptionStatement,
  voteHash,
} from "../../clients/sdk/voting/index.js";
import {
  Choice,
  type ProposalPayload,
  type SignedProposal,
} from "../../gen/vettid/voting/v1/proposal_pb.js";
import type { SubscriptionStatement } from "../../gen/vettid/voting/v1/subscription_pb.js";
import {
  type SignedVote,
  SignedVoteSchema,
  VotePayloadSchema,
  type VoteReceipt,
  VoteReceiptSchema,
} from "../../gen/vettid/voting/v1/vote_pb.js";
import type { EnclaveVoteCountersigner } from "./countersigner.js";
import { deriveVotingKey } from "./voting-key.js";

/** Bytes of fresh randomness in every vote: 256 bits (vote.proto asks for at least 128). */
export const VOTE_NONCE_BYTES = 32;

/** Largest revision: the field is a uint32. */
export const MAX_REVISION = 0xffff_ffff;

/** The keys a vault pins (compiled into the enclave image, so covered by its PCRs). */
export interface VotingTrust {
  /** The org proposal keys. */
  readonly orgKeys: TrustedKeys;
  /** The subscription statement keys. */
  readonly subscriptionKeys: TrustedKeys;
}

/** What CastVote hands to {@link castVote}, after the vault-manager checked the password. */
export interface CastVoteInput {
  /**
   * The member's identity private key (32-byte RFC 8032 seed), from the credential the
   * vault-manager opened after checking the password. Not kept or wiped here: the caller owns it.
   */
  readonly identityPrivateKey: Uint8Array;
  /** The vault's own member (the subscription statement must name it). */
  readonly ownerGuid: string;
  /** The proposal exactly as the app received it. */
  readonly signedProposal: SignedProposal | undefined;
  readonly choice: Choice;
  /** 1 for the member's first vote on the proposal, +1 for every re-vote (the vault's counter). */
  readonly revision: number;
  /** The vault's cached subscription statement ({@link SubscriptionCache}); never fetched here. */
  readonly subscriptionStatement: SubscriptionStatement | undefined;
  readonly trust: VotingTrust;
  readonly countersigner: EnclaveVoteCountersigner;
  /** Now, ms since the epoch (the enclave's clock). */
  readonly nowMs: number;
  /** Randomness for the nonce. Default: the CSPRNG (`crypto.getRandomValues`; fails without one). */
  readonly random?: (length: number) => Uint8Array;
}

/** A vote signed, countersigned and ready to queue. */
export interface CastVoteResult {
  /** What the app keeps and the vault stores (VoteRecord.receipt). */
  readonly receipt: VoteReceipt;
  readonly signedVote: SignedVote;
  /** vote_hash of the whole signed vote (vote.proto). */
  readonly voteHash: Uint8Array;
  /** The per-proposal voting public key (the queue's replacement key). */
  readonly votingPublicKey: Uint8Array;
  /** The verified proposal (closes_at_ms tells the batcher when to flush). */
  readonly proposal: ProposalPayload;
  /** Exact signing time (kept in the vault only; the payload carries the hour). */
  readonly signedAtMs: number;
}

/**
 * CastVote's signing steps 2 to 8 (vault/v1/voting.proto), pure apart from the nonce:
 * verifies the proposal with a pinned org key and decodes it; checks now ∈ [opens_at_ms,
 * closes_at_ms) and the choice; checks the cached subscription statement (signature, this
 * member, not expired); derives the voting key; builds the VotePayload (proposal id and hash,
 * choice, voting key, 32-byte nonce, cast_at_ms = now rounded down to the hour, revision); signs
 * it with the voting key and countersigns it with the enclave key; wipes the voting key.
 *
 * @throws ConnectError `permission_denied` (proposal signature, no valid subscription),
 *   `invalid_argument` (undecodable proposal, bad choice or revision), `failed_precondition`
 *   (outside the voting window): the codes CastVote answers.
 */
export function castVote(input: CastVoteInput): CastVoteResult {
  const verified = verifySignedProposal(input.signedProposal, input.trust.orgKeys);
  if (!verified.ok) {
    throw new ConnectError(
      verified.problem,
      verified.stage === "signature" ? Code.PermissionDenied : Code.InvalidArgument,
    );
  }
  const proposal = verified.payload;
  if (!Number.isSafeInteger(input.nowMs) || input.nowMs <= 0)
    throw new TypeError("nowMs must be a time in ms");
  const now = BigInt(input.nowMs);
  if (now < proposal.opensAtMs)
    throw new ConnectError("voting has not opened yet", Code.FailedPrecondition);
  if (now >= proposal.closesAtMs)
    throw new ConnectError("voting has closed", Code.FailedPrecondition);
  if (input.choice === Choice.UNSPECIFIED || !proposal.choices.includes(input.choice)) {
    throw new ConnectError("choice is not one of the proposal's choices", Code.InvalidArgument);
  }
  if (
    !Number.isSafeInteger(input.revision) ||
    input.revision < 1 ||
    input.revision > MAX_REVISION
  ) {
    throw new ConnectError("revision must be 1 to 2^32-1", Code.InvalidArgument);
  }
  const subscription = verifySubscriptionStatement(
    input.subscriptionStatement,
    input.trust.subscriptionKeys,
    {
      ownerGuid: input.ownerGuid,
      nowMs: input.nowMs,
    },
  );
  if (!subscription.ok) {
    throw new ConnectError(`no valid subscription: ${subscription.problem}`, Code.PermissionDenied);
  }

  const votingKey = deriveVotingKey(input.identityPrivateKey, proposal.proposalId);
  try {
    const nonce = (input.random ?? randomBytes)(VOTE_NONCE_BYTES);
    if (!(nonce instanceof Uint8Array) || nonce.length !== VOTE_NONCE_BYTES) {
      throw new Error("the random source did not return 32 bytes");
    }
    const payload = toBinary(
      VotePayloadSchema,
      create(VotePayloadSchema, {
        proposalId: proposal.proposalId,
        proposalHash: verified.proposalHash,
        choice: input.choice,
        votingPublicKey: votingKey.publicKey,
        nonce,
        castAtMs: now - (now % BigInt(HOUR_MS)),
        revision: input.revision,
      }),
    );
    if (payload.length > MAX_VOTE_PAYLOAD_BYTES) throw new Error("vote payload over 512 bytes");
    const signedVote = create(SignedVoteSchema, {
      payload,
      votingSignature: votingKey.sign(signedMessage(VOTE_SIGNATURE_CONTEXT, payload)),
      enclaveCountersignature: input.countersigner.countersign(payload),
      enclaveKeyId: input.countersigner.keyId,
    });
    const hash = voteHash(signedVote);
    return {
      receipt: create(VoteReceiptSchema, { signedVote, voteHash: hash }),
      signedVote,
      voteHash: hash,
      votingPublicKey: votingKey.publicKey,
      proposal,
      signedAtMs: input.nowMs,
    };
  } finally {
    votingKey.wipe();
  }
}
