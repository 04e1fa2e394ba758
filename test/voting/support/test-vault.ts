/**
 * Test-only: what a member's vault does for voting, with the vault-manager's own parts (password,
 * CEK rotation, VoteRecord storage) left out: it fetches and caches the subscription statement
 * over NATS, casts votes with enclave/voting's pure functions, keeps the revision counter and the
 * receipts, and hands the votes to the enclave's batcher.
 */
import { fromBinary } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import {
  acceptSubscriptionStatement,
  type CachedSubscription,
  type CastVoteResult,
  castVote,
  type VoteBatcher,
} from "../../../enclave/voting/index.js";
import type { Choice, SignedProposal } from "../../../gen/vettid/voting/v1/proposal_pb.js";
import {
  type SubscriptionStatement,
  SubscriptionStatementSchema,
  type SubscriptionStatementService,
} from "../../../gen/vettid/voting/v1/subscription_pb.js";
import type { TestMember, VotingFixture } from "./voting-fixture.js";

/** See the file comment. */
export interface TestVault {
  readonly member: TestMember;
  /** Fetches a statement (Backend.subscriptions) and caches it if it verifies. */
  refreshSubscription(nowMs: number): Promise<void>;
  /** Replaces the cached statement (to test refusals). */
  setSubscription(statement: SubscriptionStatement | undefined): void;
  /** CastVote's signing steps; queues the vote. Returns the result (receipt). */
  vote(proposal: SignedProposal, choice: Choice, nowMs: number): CastVoteResult;
  /** Every vote cast, oldest first. */
  readonly receipts: CastVoteResult[];
}

/** A vault for `member`. */
export function createTestVault(
  member: TestMember,
  fixture: VotingFixture,
  subscriptions: Client<typeof SubscriptionStatementService>,
  batcher: VoteBatcher,
): TestVault {
  let cached: CachedSubscription | undefined;
  let override: { statement: SubscriptionStatement | undefined } | undefined;
  const revisions = new Map<string, number>();
  const receipts: CastVoteResult[] = [];
  return {
    member,
    receipts,
    async refreshSubscription(nowMs) {
      const { statement } = await subscriptions.getSubscriptionStatement({
        ownerGuid: member.ownerGuid,
      });
      cached = acceptSubscriptionStatement(
        statement,
        fixture.subscriptionKeys,
        member.ownerGuid,
        nowMs,
      );
      override = undefined;
    },
    setSubscription(statement) {
      override = { statement };
    },
    vote(proposal, choice, nowMs) {
      const statement =
        override !== undefined
          ? override.statement
          : cached === undefined
            ? undefined
            : fromBinary(SubscriptionStatementSchema, cached.statement);
      const proposalKey = Buffer.from(proposal.payload).toString("base64");
      const revision = (revisions.get(proposalKey) ?? 0) + 1;
      const result = castVote({
        identityPrivateKey: member.identitySeed,
        ownerGuid: member.ownerGuid,
        signedProposal: proposal,
        choice,
        revision,
        subscriptionStatement: statement,
        trust: fixture.trust,
        countersigner: fixture.countersigner,
        nowMs,
      });
      revisions.set(proposalKey, revision);
      receipts.push(result);
      batcher.enqueue({
        signedVote: result.signedVote,
        voteHash: result.voteHash,
        proposalId: result.proposal.proposalId,
        votingPublicKey: result.votingPublicKey,
        revision,
        closesAtMs: Number(result.proposal.closesAtMs),
        certificate: fixture.countersigner.certificate,
      });
      return result;
    },
  };
}
