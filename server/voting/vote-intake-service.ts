import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { LRUCache } from "lru-cache";
import {
  type CountersignatureVerify,
  checkSignedVote,
  voteHash as computeVoteHash,
  decodeVotePayload,
  type Ed25519Verify,
  type SignedVoteFailure,
  type TrustedKeys,
  toHex,
  verifySignedProposal,
} from "../../clients/sdk/voting/index.js";
import { nodeSha256, verifyEd25519Node } from "../../clients/sdk/voting/node.js";
import type { ProposalPayload } from "../../gen/vettid/voting/v1/proposal_pb.js";
import {
  type SubmitVotesRequest,
  VoteDisposition,
  type VoteIntakeService,
  VoteRejectReason,
  type VoteSubmissionResult,
  VoteSubmissionResultSchema,
} from "../../gen/vettid/voting/v1/vote_intake_service_pb.js";
import { type Logger, silentLogger } from "../logging/index.js";
import type { EnclaveKeyLookup, EnclaveKeyStore } from "./enclave-keys.js";
import type { ProposalRecord, ProposalsTable } from "./proposals-table.js";
import type { VotesTable } from "./votes-table.js";
import { noMetrics, type VotingMetrics } from "./voting-metrics.js";
import { SUBMISSION_GRACE_MS, votingEndMs } from "./voting-window.js";

/** Most votes in one batch (vote_intake_service.proto). */
export const MAX_VOTES_PER_BATCH = 1000;
/**
 * Votes stored at once per batch: sixteen conditional writes in flight. DynamoDB answers each in
 * a few milliseconds; one after the other, a batch of 1000 would take seconds.
 */
export const DEFAULT_STORE_CONCURRENCY = 16;
/** Largest SubmitVotes request: 1 MiB (vote_intake_service.proto); serve with this readMaxBytes. */
export const VOTE_INTAKE_MAX_REQUEST_BYTES = 1024 * 1024;
/**
 * How long a verified proposal is reused between batches: ten seconds. The signed content never
 * changes; the early-close state does, and ten seconds is a negligible delay for it.
 */
export const DEFAULT_PROPOSAL_CACHE_MS = 10_000;
/**
 * Tolerance for an enclave clock ahead of the backend's when a batch arrives before opens_at_ms:
 * five minutes, as elsewhere in the project.
 */
export const DEFAULT_INTAKE_CLOCK_SKEW_MS = 5 * 60_000;

const HOUR_MS = 3_600_000n;

/** What the intake needs. */
export interface VoteIntakeDeps {
  readonly proposals: ProposalsTable;
  readonly votes: VotesTable;
  readonly enclaveKeys: EnclaveKeyStore;
  /** The pinned org keys: stored proposals are verified before their content is used. */
  readonly orgKeys: TrustedKeys;
  /** Default `Date.now`. */
  readonly now?: () => number;
  readonly logger?: Logger;
  readonly metrics?: VotingMetrics;
  /** Default node:crypto behind the strict checks ({@link verifyEd25519Node}). */
  readonly verifyEd25519?: Ed25519Verify;
  /** Default {@link DEFAULT_PROPOSAL_CACHE_MS}. */
  readonly proposalCacheMs?: number;
  /** Default {@link DEFAULT_INTAKE_CLOCK_SKEW_MS}. */
  readonly clockSkewMs?: number;
  /** Default {@link DEFAULT_STORE_CONCURRENCY}. */
  readonly storeConcurrency?: number;
}

interface KnownProposal {
  readonly record: ProposalRecord;
  readonly payload: ProposalPayload;
  readonly proposalHash: Uint8Array;
}

const FAILURE_REASON: Record<SignedVoteFailure, VoteRejectReason> = {
  malformed: VoteRejectReason.MALFORMED,
  proposal_mismatch: VoteRejectReason.UNKNOWN_PROPOSAL,
  proposal_hash_mismatch: VoteRejectReason.PROPOSAL_HASH_MISMATCH,
  choice_not_allowed: VoteRejectReason.CHOICE_NOT_ALLOWED,
  unknown_enclave_key: VoteRejectReason.UNKNOWN_ENCLAVE_KEY,
  bad_countersignature: VoteRejectReason.BAD_COUNTERSIGNATURE,
  bad_voting_signature: VoteRejectReason.BAD_VOTING_SIGNATURE,
};

/**
 * VoteIntakeService (`Backend.votes`, served over NATS with {@link serveNats}): judges each vote
 * of a batch on its own and stores the accepted ones. It checks the vote, never the member: the
 * payload's form; the proposal (known, its hash, open, the choice); the enclave certificate
 * (attestation) and countersignature; the voting signature (strict RFC 8032, small-order keys
 * refused); then stores by voting key, a higher revision replacing a lower one. Timing: accepted
 * while voting is open and for {@link SUBMISSION_GRACE_MS} after it ends; cast_at_ms must be a
 * multiple of an hour, before the end, and after opens_at_ms − 1 h.
 *
 * What it records: the vote items (no member id, no identity key, no arrival time), one log line
 * per batch (batch id and counts per outcome) and counters. Nothing about a single vote is
 * logged: not its hash, key or choice.
 */
export function createVoteIntakeService(
  deps: VoteIntakeDeps,
): ServiceImpl<typeof VoteIntakeService> {
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? silentLogger;
  const metrics = deps.metrics ?? noMetrics;
  const verifyEd25519 = deps.verifyEd25519 ?? verifyEd25519Node;
  const skew = deps.clockSkewMs ?? DEFAULT_INTAKE_CLOCK_SKEW_MS;
  const storeConcurrency = deps.storeConcurrency ?? DEFAULT_STORE_CONCURRENCY;
  const proposalCache = new LRUCache<string, KnownProposal | "unknown">({
    max: 1000,
    ttl: deps.proposalCacheMs ?? DEFAULT_PROPOSAL_CACHE_MS,
  });

  const proposalOf = async (proposalId: string): Promise<KnownProposal | undefined> => {
    const cached = proposalCache.get(proposalId);
    if (cached !== undefined) return cached === "unknown" ? undefined : cached;
    const record = await deps.proposals.get(proposalId);
    let known: KnownProposal | "unknown" = "unknown";
    if (record !== undefined) {
      const verified = verifySignedProposal(record.signed, deps.orgKeys);
      if (verified.ok && verified.payload.proposalId === proposalId) {
        known = { record, payload: verified.payload, proposalHash: verified.proposalHash };
      } else {
        logger.error("stored_proposal_invalid", { proposal_id: proposalId });
      }
    }
    proposalCache.set(proposalId, known);
    return known === "unknown" ? undefined : known;
  };

  return {
    async submitVotes(request: SubmitVotesRequest) {
      validateBatch(request);
      const atMs = now();
      const keys = new Map<string, EnclaveKeyLookup>();
      for (const certificate of request.countersigningKeys) {
        if (!keys.has(certificate.keyId))
          keys.set(certificate.keyId, await deps.enclaveKeys.offer(certificate));
      }
      const keyOf = async (keyId: string): Promise<EnclaveKeyLookup> => {
        let lookup = keys.get(keyId);
        if (lookup === undefined) {
          lookup = await deps.enclaveKeys.lookup(keyId);
          keys.set(keyId, lookup);
        }
        return lookup;
      };

      const results: VoteSubmissionResult[] = [];
      const accepted: {
        index: number;
        proposalId: string;
        key: string;
        revision: number;
        voteHash: Uint8Array;
        votingPublicKey: Uint8Array;
      }[] = [];
      const reject = (index: number, voteHash: Uint8Array, reason: VoteRejectReason) => {
        results[index] = create(VoteSubmissionResultSchema, {
          voteHash,
          disposition: VoteDisposition.REJECTED,
          rejectReason: reason,
        });
      };

      for (const [index, vote] of request.votes.entries()) {
        const voteHash = computeVoteHash(vote, nodeSha256);
        const decoded = decodeVotePayload(vote.payload);
        if (!decoded.ok) {
          reject(index, voteHash, VoteRejectReason.MALFORMED);
          continue;
        }
        const payload = decoded.payload;
        const proposal = await proposalOf(payload.proposalId);
        if (proposal === undefined) {
          reject(index, voteHash, VoteRejectReason.UNKNOWN_PROPOSAL);
          continue;
        }
        if (!bytesEqual(payload.proposalHash, proposal.proposalHash)) {
          reject(index, voteHash, VoteRejectReason.PROPOSAL_HASH_MISMATCH);
          continue;
        }
        const timing = timingReason(proposal, payload.castAtMs, atMs, skew);
        if (timing !== undefined) {
          reject(index, voteHash, timing);
          continue;
        }
        const lookup = await keyOf(vote.enclaveKeyId);
        if (lookup.kind === "untrusted") {
          reject(index, voteHash, VoteRejectReason.UNTRUSTED_ENCLAVE_KEY);
          continue;
        }
        const verifier: CountersignatureVerify | undefined =
          lookup.kind === "trusted" ? lookup.key.verify : undefined;
        const checked = checkSignedVote(
          vote,
          {
            proposalId: proposal.payload.proposalId,
            proposalHash: proposal.proposalHash,
            choices: proposal.payload.choices,
          },
          { countersignatureVerifier: () => verifier, verifyEd25519, hash: nodeSha256 },
        );
        if (!checked.ok) {
          reject(index, voteHash, FAILURE_REASON[checked.failure]);
          continue;
        }
        accepted.push({
          index,
          proposalId: payload.proposalId,
          key: `${payload.proposalId}/${toHex(payload.votingPublicKey)}`,
          revision: payload.revision,
          voteHash,
          votingPublicKey: payload.votingPublicKey,
        });
      }

      // Votes sharing a voting key are stored highest revision first, whatever their order;
      // different keys are stored concurrently.
      accepted.sort((a, b) => (a.key === b.key ? b.revision - a.revision : a.key < b.key ? -1 : 1));
      const groups: (typeof accepted)[] = [];
      for (const vote of accepted) {
        const last = groups[groups.length - 1];
        if (last !== undefined && last[0]?.key === vote.key) last.push(vote);
        else groups.push([vote]);
      }
      const storeGroup = async (group: typeof accepted) => {
        for (const vote of group) {
          const signedVote = request.votes[vote.index];
          if (signedVote === undefined) continue;
          const outcome = await deps.votes.put({
            proposalId: vote.proposalId,
            votingPublicKey: vote.votingPublicKey,
            voteHash: vote.voteHash,
            revision: vote.revision,
            signedVote,
          });
          results[vote.index] =
            outcome.kind === "accepted"
              ? create(VoteSubmissionResultSchema, {
                  voteHash: vote.voteHash,
                  disposition: VoteDisposition.ACCEPTED,
                  ...(outcome.replacedVoteHash === undefined
                    ? {}
                    : { replacedVoteHash: outcome.replacedVoteHash }),
                })
              : outcome.kind === "already_accepted"
                ? create(VoteSubmissionResultSchema, {
                    voteHash: vote.voteHash,
                    disposition: VoteDisposition.ALREADY_ACCEPTED,
                  })
                : create(VoteSubmissionResultSchema, {
                    voteHash: vote.voteHash,
                    disposition: VoteDisposition.REJECTED,
                    rejectReason: VoteRejectReason.STALE_REVISION,
                    currentRevision: outcome.currentRevision,
                  });
        }
      };
      let next = 0;
      const lanes = Array.from({ length: Math.min(storeConcurrency, groups.length) }, async () => {
        while (next < groups.length) await storeGroup(groups[next++] as typeof accepted);
      });
      await Promise.all(lanes);
      report(logger, metrics, request, results);
      return { results };
    },
  };
}

function validateBatch(request: SubmitVotesRequest): void {
  if (request.batchId.length !== 16) {
    throw new ConnectError("batch_id must be 16 bytes", Code.InvalidArgument);
  }
  if (request.votes.length === 0 || request.votes.length > MAX_VOTES_PER_BATCH) {
    throw new ConnectError(
      `a batch holds 1 to ${MAX_VOTES_PER_BATCH} votes; got ${request.votes.length}`,
      Code.InvalidArgument,
    );
  }
}

function timingReason(
  proposal: KnownProposal,
  castAtMs: bigint,
  nowMs: number,
  skewMs: number,
): VoteRejectReason | undefined {
  if (proposal.record.status === "published") return VoteRejectReason.VOTING_CLOSED;
  const end = votingEndMs(proposal.record);
  if (nowMs >= end + SUBMISSION_GRACE_MS) return VoteRejectReason.VOTING_CLOSED;
  if (castAtMs >= BigInt(end)) return VoteRejectReason.VOTING_CLOSED;
  if (nowMs + skewMs < proposal.record.opensAtMs) return VoteRejectReason.VOTING_NOT_OPEN;
  if (castAtMs <= proposal.payload.opensAtMs - HOUR_MS) return VoteRejectReason.VOTING_NOT_OPEN;
  return undefined;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

function report(
  logger: Logger,
  metrics: VotingMetrics,
  request: SubmitVotesRequest,
  results: VoteSubmissionResult[],
): void {
  let acceptedCount = 0;
  let already = 0;
  const rejected: Record<string, number> = {};
  for (const result of results) {
    if (result.disposition === VoteDisposition.ACCEPTED) acceptedCount++;
    else if (result.disposition === VoteDisposition.ALREADY_ACCEPTED) already++;
    else {
      const reason = VoteRejectReason[result.rejectReason] ?? "UNSPECIFIED";
      rejected[reason] = (rejected[reason] ?? 0) + 1;
    }
  }
  logger.info("vote_batch", {
    batch_id: toHex(request.batchId),
    votes: request.votes.length,
    accepted: acceptedCount,
    already_accepted: already,
    rejected,
  });
  metrics.count("vote_batches_received", 1);
  metrics.count("votes_received", request.votes.length);
  metrics.count("votes_accepted", acceptedCount + already);
  for (const [reason, count] of Object.entries(rejected))
    metrics.count("votes_rejected", count, { reason });
}
