import { create, fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { verifySignedProposal } from "../../../clients/sdk/voting/index.js";
import {
  CastVoteResponseSchema,
  ListVotesResponseSchema,
  type VotingService,
} from "../../../gen/vettid/vault/v1/voting_pb.js";
import { SubscriptionStatementSchema } from "../../../gen/vettid/voting/v1/subscription_pb.js";
import {
  castVote,
  type EnclaveVoteCountersigner,
  type QueuedVote,
  type VoteOutcome,
  type VotingTrust,
} from "../../voting/index.js";
import { authorize, rotateCek } from "../credentials.js";
import type { Vault } from "../vault.js";
import {
  applyVoteOutcome,
  insertVoteRecord,
  listVoteRecords,
  nextVoteRevision,
  queuedVoteRecord,
  readCachedSubscription,
} from "../vote-records.js";
import { committing } from "./committing.js";
import { ownerGuidOf, requireGuid, type VaultAccess } from "./vault-access.js";

const CAST_VOTE = "/vettid.vault.v1.VotingService/CastVote";
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 200;
/** Page tokens are offsets into the member's list, written in decimal. */
const PAGE_TOKEN = /^(0|[1-9][0-9]{0,8})$/;

/** A queued vote's fate, as the enclave's batcher reported it. */
export interface PendingVoteOutcome {
  readonly voteHash: Uint8Array;
  readonly outcome: VoteOutcome;
}

/** What VotingService needs from the enclave: the pinned keys, the countersigner, the queue. */
export interface VaultVoting {
  /** The org and subscription keys pinned in the enclave image. */
  readonly trust: VotingTrust;
  /** The enclave's attested countersigning key. */
  readonly countersigner: EnclaveVoteCountersigner;
  /** Hands a vote to the enclave's batcher; called only once its record is durably stored. */
  queue(ownerGuid: string, vote: QueuedVote): void;
  /** Outcomes for this member's votes not yet written to the vault; the caller applies them. */
  takePendingOutcomes(ownerGuid: string): PendingVoteOutcome[];
}

/**
 * Writes the member's outcomes that arrived while nothing could write them (a durable commit of
 * their own), when the vault is unlocked; a locked vault keeps them waiting. Call inside the
 * vault's operation.
 */
export async function writePendingOutcomes(
  vault: Vault,
  voting: Pick<VaultVoting, "takePendingOutcomes">,
  ownerGuid: string,
  nowMs: number,
): Promise<void> {
  if (!vault.isOpen) return;
  const pending = voting.takePendingOutcomes(ownerGuid);
  if (pending.length === 0) return;
  await committing(vault, async (db) => {
    for (const { voteHash, outcome } of pending) applyVoteOutcome(db, voteHash, outcome, nowMs);
  });
}

/**
 * VotingService (vault/v1/voting.proto): CastVote checks the password, the proposal's org
 * signature, the voting window, the cached subscription statement, then signs with the
 * per-proposal voting key, countersigns with the enclave key, stores the VoteRecord and rotates
 * the CEK in one durable commit; only then is the vote queued for the next batch. ListVotes pages
 * through the member's records, newest first. Without `voting` (an enclave built without voting
 * keys) both answer `failed_precondition`.
 */
export function createVotingService(
  access: VaultAccess,
  configured: VaultVoting | undefined,
): ServiceImpl<typeof VotingService> {
  const enabled = (): VaultVoting => {
    if (configured === undefined) {
      throw new ConnectError(
        "voting is not available: this enclave has no voting keys configured",
        Code.FailedPrecondition,
      );
    }
    return configured;
  };
  return {
    async castVote(request, context) {
      const voting = enabled();
      const ownerGuid = ownerGuidOf(context);
      if (request.signedProposal === undefined) {
        throw new ConnectError("signed_proposal is required", Code.InvalidArgument);
      }
      // The proposal's id names the revision counter; castVote checks everything again.
      const verified = verifySignedProposal(request.signedProposal, voting.trust.orgKeys);
      if (!verified.ok) {
        throw new ConnectError(
          verified.problem,
          verified.stage === "signature" ? Code.PermissionDenied : Code.InvalidArgument,
        );
      }
      const proposalId = verified.payload.proposalId;
      const countersigner = voting.countersigner;
      return access.use(ownerGuid, async (vault) => {
        await writePendingOutcomes(vault, voting, ownerGuid, access.now());
        const { response, queued } = await committing(vault, async (db) => {
          const now = access.now();
          const { contents } = await authorize(db, request.authorization, CAST_VOTE, now);
          const cached = readCachedSubscription(db);
          const revision = nextVoteRevision(db, proposalId);
          const result = castVote({
            identityPrivateKey: contents.identityPrivateKey,
            ownerGuid,
            signedProposal: request.signedProposal,
            choice: request.choice,
            revision,
            subscriptionStatement:
              cached === undefined
                ? undefined
                : fromBinary(SubscriptionStatementSchema, cached.statement),
            trust: voting.trust,
            countersigner,
            nowMs: now,
          });
          const record = queuedVoteRecord({
            receipt: result.receipt,
            proposalId,
            choice: request.choice,
            revision,
            signedAtMs: BigInt(result.signedAtMs),
          });
          const closesAtMs = Number(result.proposal.closesAtMs);
          insertVoteRecord(db, record, closesAtMs, countersigner.certificate);
          const rotated = await rotateCek(db, contents, now);
          const queued: QueuedVote = {
            signedVote: result.signedVote,
            voteHash: result.voteHash,
            proposalId,
            votingPublicKey: result.votingPublicKey,
            revision,
            closesAtMs,
            certificate: countersigner.certificate,
          };
          return {
            response: create(CastVoteResponseSchema, {
              vote: record,
              countersigningKey: countersigner.certificate,
              rotatedCredential: rotated,
            }),
            queued,
          };
        });
        voting.queue(ownerGuid, queued);
        return response;
      });
    },

    listVotes(request, context) {
      const voting = enabled();
      const ownerGuid = ownerGuidOf(context);
      if (request.proposalId !== "") requireGuid(request.proposalId, "proposal_id");
      if (request.pageToken !== "" && !PAGE_TOKEN.test(request.pageToken)) {
        throw new ConnectError("page_token is not one this vault issued", Code.InvalidArgument);
      }
      const offset = request.pageToken === "" ? 0 : Number(request.pageToken);
      const pageSize =
        request.pageSize === 0 ? DEFAULT_PAGE_SIZE : Math.min(request.pageSize, MAX_PAGE_SIZE);
      return access.use(ownerGuid, async (vault) => {
        await writePendingOutcomes(vault, voting, ownerGuid, access.now());
        const { records, more } = listVoteRecords(vault.db, request.proposalId, pageSize, offset);
        return create(ListVotesResponseSchema, {
          votes: records,
          nextPageToken: more ? String(offset + records.length) : "",
        });
      });
    },
  };
}
