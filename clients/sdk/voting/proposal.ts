import { sha256 } from "@noble/hashes/sha2.js";
import {
  Choice,
  type ProposalPayload,
  ProposalPayloadSchema,
  QuorumType,
  type SignedProposal,
} from "../../../gen/vettid/voting/v1/proposal_pb.js";
import { PROPOSAL_CONTEXT } from "./labels.js";
import { decodeStrict } from "./strict-decode.js";
import {
  backendSignatureFailure,
  describeBackendSignatureFailure,
  type TrustedKeys,
} from "./trusted-keys.js";

/** A lowercase RFC 9562 UUID string, as every id in vettid.voting.v1. */
export const UUID_PATTERN =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Field limits of ProposalPayload (proposal.proto), in characters (Unicode code points). */
export const PROPOSAL_LIMITS = {
  titleMax: 200,
  textMax: 20_000,
  categoryMax: 64,
  numberMax: 32,
  turnoutBasisPointsMax: 10_000,
} as const;

/** The choices a vote may ever take. */
export const VALID_CHOICES: readonly Choice[] = [Choice.YES, Choice.NO, Choice.ABSTAIN];

/** A verified proposal: the decoded payload and proposal_hash = SHA-256(payload bytes). */
export interface VerifiedProposal {
  readonly payload: ProposalPayload;
  readonly proposalHash: Uint8Array;
  /** The signed bytes, as received. */
  readonly payloadBytes: Uint8Array;
}

/** The outcome of {@link verifySignedProposal}. */
export type ProposalVerification =
  | ({ readonly ok: true } & VerifiedProposal)
  | {
      readonly ok: false;
      /** `signature`: missing, unpinned key, wrong algorithm, bad signature; `payload`: signed but unusable. */
      readonly stage: "signature" | "payload";
      readonly problem: string;
    };

/**
 * Verifies a SignedProposal as proposal.proto prescribes: org signature first (pinned key,
 * ECDSA P-256 / SHA-256, high-S accepted, context "vettid-proposal-v1"), then decodes the payload
 * strictly and checks its fields ({@link proposalPayloadProblem}). Display nothing from a
 * proposal that did not verify. Never throws.
 */
export function verifySignedProposal(
  signed: SignedProposal | undefined,
  keys: TrustedKeys,
): ProposalVerification {
  if (signed === undefined)
    return { ok: false, stage: "signature", problem: "signed proposal is missing" };
  const failure = backendSignatureFailure(
    {
      payload: signed.payload,
      signature: signed.orgSignature,
      signingKeyId: signed.signingKeyId,
      algorithm: signed.algorithm,
    },
    PROPOSAL_CONTEXT,
    keys,
  );
  if (failure !== undefined) {
    return {
      ok: false,
      stage: "signature",
      problem: describeBackendSignatureFailure(failure, "proposal", signed.signingKeyId),
    };
  }
  const decoded = decodeStrict(ProposalPayloadSchema, signed.payload, "proposal payload");
  if (!decoded.ok) return { ok: false, stage: "payload", problem: decoded.problem };
  const problem = proposalPayloadProblem(decoded.message);
  if (problem !== undefined) {
    return { ok: false, stage: "payload", problem: `proposal payload: ${problem}` };
  }
  return {
    ok: true,
    payload: decoded.message,
    proposalHash: sha256(signed.payload),
    payloadBytes: signed.payload,
  };
}

/** What is wrong with a ProposalPayload's fields, or undefined (the rules of proposal.proto). */
export function proposalPayloadProblem(payload: ProposalPayload): string | undefined {
  if (!UUID_PATTERN.test(payload.proposalId)) return "proposal_id is not a lowercase UUID";
  const number = [...payload.proposalNumber].length;
  if (number === 0 || number > PROPOSAL_LIMITS.numberMax) {
    return `proposal_number must be 1 to ${PROPOSAL_LIMITS.numberMax} characters`;
  }
  const text =
    textProblem(payload.title, "title", PROPOSAL_LIMITS.titleMax) ??
    textProblem(payload.text, "text", PROPOSAL_LIMITS.textMax) ??
    textProblem(payload.category, "category", PROPOSAL_LIMITS.categoryMax);
  if (text !== undefined) return text;
  const choices = choicesProblem(payload.choices);
  if (choices !== undefined) return choices;
  if (payload.opensAtMs <= 0n) return "opens_at_ms must be positive";
  if (payload.closesAtMs <= payload.opensAtMs) return "closes_at_ms must be after opens_at_ms";
  if (payload.createdAtMs <= 0n) return "created_at_ms must be positive";
  return quorumProblem(payload.quorumType, payload.quorumValue);
}

/** What is wrong with a proposal's choice list, or undefined: non-empty, valid, no duplicates. */
export function choicesProblem(choices: readonly Choice[]): string | undefined {
  if (choices.length === 0) return "choices must not be empty";
  const seen = new Set<Choice>();
  for (const choice of choices) {
    if (!VALID_CHOICES.includes(choice)) return `choice ${choice} is not YES, NO or ABSTAIN`;
    if (seen.has(choice)) return `choice ${Choice[choice]} is listed twice`;
    seen.add(choice);
  }
  return undefined;
}

/** What is wrong with a quorum rule, or undefined. */
export function quorumProblem(type: QuorumType, value: bigint): string | undefined {
  switch (type) {
    case QuorumType.NONE:
      return value === 0n ? undefined : "quorum_value must be 0 when quorum_type is NONE";
    case QuorumType.MIN_VOTES:
      return undefined;
    case QuorumType.MIN_TURNOUT_BASIS_POINTS:
      return value <= BigInt(PROPOSAL_LIMITS.turnoutBasisPointsMax)
        ? undefined
        : `quorum_value must be 0 to ${PROPOSAL_LIMITS.turnoutBasisPointsMax} basis points`;
    default:
      return "quorum_type is not set";
  }
}

/**
 * Whether quorum is met under a proposal's rule: every accepted vote counts, ABSTAIN included
 * (proposal.proto).
 */
export function quorumMet(
  type: QuorumType,
  value: bigint,
  totalVotes: bigint,
  eligibleMembers: bigint,
): boolean {
  switch (type) {
    case QuorumType.NONE:
      return true;
    case QuorumType.MIN_VOTES:
      return totalVotes >= value;
    case QuorumType.MIN_TURNOUT_BASIS_POINTS:
      return totalVotes * 10_000n >= value * eligibleMembers;
    default:
      return false;
  }
}

function textProblem(value: string, name: string, max: number): string | undefined {
  const length = [...value].length;
  if (length === 0 || length > max) return `${name} must be 1 to ${max} characters`;
  return undefined;
}
