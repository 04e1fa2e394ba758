/**
 * The backend's edges: revisions of one voting key inside one batch, in either order; a retried
 * batch; publication that resumes after an interruption; VoteListService's errors and page tokens.
 */
import { DeleteItemCommand } from "@aws-sdk/client-dynamodb";
import { Code, type ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifySignedVoteListHead } from "../../clients/sdk/voting/index.js";
import { castVote } from "../../enclave/voting/index.js";
import { Choice, QuorumType, type SignedProposal } from "../../gen/vettid/voting/v1/proposal_pb.js";
import {
  VoteDisposition,
  VoteRejectReason,
} from "../../gen/vettid/voting/v1/vote_intake_service_pb.js";
import type { SignedVote } from "../../gen/vettid/voting/v1/vote_pb.js";
import { tableName } from "../../server/storage/index.js";
import { proposalIdFor, voteListBlobKeys } from "../../server/voting/index.js";
import { ENVIRONMENT, startVotingStack, type VotingStack } from "./support/voting-stack.js";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 4, 1, 8, 0, 0);

let stack: VotingStack;
let proposal: SignedProposal;
let proposalId: string;

beforeAll(async () => {
  stack = await startVotingStack(T0);
  const created = await stack.proposals.createProposal(
    {
      requestId: "7a1c2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
      title: "Edges",
      text: "Revisions, retries, resumption.",
      category: "governance",
      choices: [Choice.YES, Choice.NO],
      opensAtMs: BigInt(T0),
      closesAtMs: BigInt(T0 + 24 * HOUR),
      quorumType: QuorumType.NONE,
      quorumValue: 0n,
    },
    stack.admin,
  );
  proposal = created.proposal?.signedProposal as SignedProposal;
  proposalId = created.proposal?.proposalId as string;
  stack.clock.now = T0 + HOUR;
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

async function votesOf(count: number): Promise<SignedVote[]> {
  const member = stack.fixture.member();
  const statement = await stack.fixture.statement(
    member.ownerGuid,
    stack.clock.now,
    stack.clock.now + HOUR,
  );
  return Array.from(
    { length: count },
    (_, i) =>
      castVote({
        identityPrivateKey: member.identitySeed,
        ownerGuid: member.ownerGuid,
        signedProposal: proposal,
        choice: i % 2 === 0 ? Choice.YES : Choice.NO,
        revision: i + 1,
        subscriptionStatement: statement,
        trust: stack.fixture.trust,
        countersigner: stack.fixture.countersigner,
        nowMs: stack.clock.now,
      }).signedVote,
  );
}

const submit = (votes: SignedVote[], batchId = crypto.getRandomValues(new Uint8Array(16))) =>
  stack.intake.submitVotes({
    batchId,
    votes,
    countersigningKeys: [stack.fixture.countersigner.certificate],
  });

describe("the backend's edges", () => {
  it("the proposal id is the UUIDv8 of the request id", () => {
    expect(proposalId).toBe(proposalIdFor("7a1c2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"));
    expect(proposalId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it("revisions of one voting key in one batch are resolved by revision, whatever their order", async () => {
    for (const order of ["ascending", "descending"]) {
      const [first, second, third] = await votesOf(3);
      const votes = order === "ascending" ? [first, second, third] : [third, second, first];
      const { results } = await submit(votes as SignedVote[]);
      const byRevision = (revision: number) =>
        results[order === "ascending" ? revision - 1 : 3 - revision];
      expect(byRevision(3)?.disposition, order).toBe(VoteDisposition.ACCEPTED);
      expect(byRevision(2)?.rejectReason, order).toBe(VoteRejectReason.STALE_REVISION);
      expect(byRevision(1)?.rejectReason, order).toBe(VoteRejectReason.STALE_REVISION);
      expect(byRevision(1)?.currentRevision, order).toBe(3);
    }
  });

  it("a retried batch (same batch id, lost reply) is ALREADY_ACCEPTED and changes nothing", async () => {
    const votes = [...(await votesOf(1)), ...(await votesOf(1))];
    const batchId = crypto.getRandomValues(new Uint8Array(16));
    const first = await submit(votes, batchId);
    const again = await submit(votes, batchId);
    expect(first.results.map((r) => r.disposition)).toEqual([
      VoteDisposition.ACCEPTED,
      VoteDisposition.ACCEPTED,
    ]);
    expect(again.results.map((r) => r.disposition)).toEqual([
      VoteDisposition.ALREADY_ACCEPTED,
      VoteDisposition.ALREADY_ACCEPTED,
    ]);
  });

  it("VoteListService answers not_found, failed_precondition and invalid_argument as the schema says", async () => {
    const code = async (call: Promise<unknown>) =>
      ((await call.catch((e: unknown) => e)) as ConnectError).code;
    expect(
      await code(stack.voteLists.getPublishedVoteList({ proposalId: crypto.randomUUID() })),
    ).toBe(Code.NotFound);
    expect(await code(stack.voteLists.getPublishedVoteList({ proposalId }))).toBe(
      Code.FailedPrecondition,
    );
    expect(
      await code(stack.voteLists.getMerkleProof({ proposalId, voteHash: new Uint8Array(31) })),
    ).toBe(Code.InvalidArgument);
  });

  it("publication resumes after an interruption: the list file written first stands, with its head", async () => {
    stack.clock.now = T0 + 25 * HOUR;
    const first = await stack.backend.publisher.publish(proposalId);
    // Simulate a crash after the files were written: the vote-lists row is gone.
    await stack.dynalite.client.send(
      new DeleteItemCommand({
        TableName: tableName(ENVIRONMENT, "voteLists"),
        Key: { proposal_id: { S: proposalId } },
      }),
    );
    stack.clock.now += 60_000;
    const second = await stack.backend.publisher.publish(proposalId);
    expect(second.signedHead.payload).toEqual(first.signedHead.payload);
    expect(second.signedHead.orgSignature).toEqual(first.signedHead.orgSignature);
    expect(second.binaryKey).toBe(voteListBlobKeys(proposalId).binary);
    const head = verifySignedVoteListHead(second.signedHead, stack.fixture.orgKeys);
    expect(head.ok && head.head.treeSize).toBe(4n);
  });

  it("a suspended member gets no subscription statement (failed_precondition); a bad id is invalid_argument", async () => {
    const member = stack.fixture.member();
    await stack.enroll(member);
    const issued = await stack.subscriptions.getSubscriptionStatement({
      ownerGuid: member.ownerGuid,
    });
    expect(issued.statement?.signingKeyId).toBe(
      (await stack.fixture.subscriptionSigner.describe()).keyId,
    );
    await stack.members.suspend(member.ownerGuid, "ACCOUNT_CLOSED", stack.clock.now);
    const refused = await stack.subscriptions
      .getSubscriptionStatement({ ownerGuid: member.ownerGuid })
      .catch((e: unknown) => e);
    expect((refused as ConnectError).code).toBe(Code.FailedPrecondition);
    const bad = await stack.subscriptions
      .getSubscriptionStatement({ ownerGuid: "not-a-uuid" })
      .catch((e: unknown) => e);
    expect((bad as ConnectError).code).toBe(Code.InvalidArgument);
  });

  it("pages carry tokens that only work for their own list", async () => {
    const first = await stack.voteLists.getPublishedVoteList({ proposalId, pageSize: 1 });
    expect(first.voteList?.entries).toHaveLength(1);
    expect(first.firstEntryIndex).toBe(0n);
    const second = await stack.voteLists.getPublishedVoteList({
      proposalId,
      pageSize: 1,
      pageToken: first.nextPageToken,
    });
    expect(second.firstEntryIndex).toBe(1n);
    const forged = Buffer.from(`v1:2:${"00".repeat(8)}`).toString("base64url");
    const refused = await stack.voteLists
      .getPublishedVoteList({ proposalId, pageToken: forged })
      .catch((e: unknown) => e);
    expect((refused as ConnectError).code).toBe(Code.InvalidArgument);
  });
});
