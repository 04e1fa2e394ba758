/**
 * The workers' voting over real components: a nats-server, dynalite, list files in a directory,
 * local P-256 signers behind the KMS signer interface. A member's statement and a vote go through
 * NATS to the workers; the timer publishes the list once voting has ended; a failing round is
 * logged and the next one runs.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteTableCommand } from "@aws-sdk/client-dynamodb";
import { connect, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  verifySignedVoteListHead,
  verifySubscriptionStatement,
} from "../../clients/sdk/voting/index.js";
import { trustKeysNode } from "../../clients/sdk/voting/node.js";
import { createFilesystemBlobStore } from "../../enclave/storage/index.js";
import { castVote } from "../../enclave/voting/index.js";
import { Choice, QuorumType } from "../../gen/vettid/voting/v1/proposal_pb.js";
import { SubscriptionStatementService } from "../../gen/vettid/voting/v1/subscription_pb.js";
import {
  VoteDisposition,
  VoteIntakeService,
} from "../../gen/vettid/voting/v1/vote_intake_service_pb.js";
import { createNatsTransport, createRpcClient } from "../../rpc/index.js";
import { type DynaliteHandle, startDynalite } from "../../test/support/dynalite.js";
import { type NatsServerHandle, startNatsServer } from "../../test/support/nats-server.js";
import {
  createVotingFixture,
  type VotingFixture,
} from "../../test/voting/support/voting-fixture.js";
import type { Logger } from "../logging/index.js";
import { createMembersTable, ensureTables, tableName } from "../storage/index.js";
import { voteListBlobKeys } from "../voting/index.js";
import { startVotingWorkers, type VotingWorkers } from "./voting-workers.js";

const ENVIRONMENT = "workersvoting";
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 4, 1, 8, 0, 0);
const PUBLIC_URL = "https://vote-lists.example.invalid/";

const lines: { level: string; event: string; fields: Record<string, unknown> }[] = [];
const logger: Logger = {
  info: (event, fields = {}) => lines.push({ level: "info", event, fields }),
  warn: (event, fields = {}) => lines.push({ level: "warn", event, fields }),
  error: (event, fields = {}) => lines.push({ level: "error", event, fields }),
};
const clock = { now: T0 };

let fixture: VotingFixture;
let dynalite: DynaliteHandle;
let nats: NatsServerHandle;
let workerConnection: NatsConnection;
let enclaveConnection: NatsConnection;
let blobDirectory: string;
let workers: VotingWorkers;

beforeAll(async () => {
  fixture = await createVotingFixture();
  dynalite = await startDynalite();
  await ensureTables(dynalite.client, ENVIRONMENT, {
    tables: ["proposals", "votes", "voteLists", "members"],
  });
  nats = await startNatsServer();
  workerConnection = await connect({ servers: nats.url });
  enclaveConnection = await connect({ servers: nats.url });
  blobDirectory = await mkdtemp(join(tmpdir(), "vettid-workers-voting-"));
  workers = await startVotingWorkers({
    connection: workerConnection,
    dynamo: { client: dynalite.client, environment: ENVIRONMENT },
    blobs: createFilesystemBlobStore({ directory: blobDirectory, maxObjectBytes: 2 ** 30 }),
    orgSigner: fixture.orgSigner,
    subscriptionSigner: fixture.subscriptionSigner,
    attestation: fixture.attestation,
    publicUrl: PUBLIC_URL,
    publishIntervalMs: 100,
    now: () => clock.now,
    logger,
  });
}, 60_000);

afterAll(async () => {
  await workers?.close();
  await workerConnection?.drain();
  await enclaveConnection?.drain();
  await nats?.stop();
  await dynalite?.stop();
  if (blobDirectory !== undefined) await rm(blobDirectory, { recursive: true, force: true });
});

async function until<T>(check: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("the workers' voting", () => {
  it("serves statements and intake on NATS, and publishes the list on its timer once voting ended", async () => {
    const transport = createNatsTransport({ connection: enclaveConnection });
    const subscriptions = createRpcClient(SubscriptionStatementService, transport);
    const intake = createRpcClient(VoteIntakeService, transport);

    const member = fixture.member();
    await createMembersTable({ client: dynalite.client, environment: ENVIRONMENT }).create({
      ownerGuid: member.ownerGuid,
      enrolledAtMs: T0,
      enrollmentSessionId: crypto.randomUUID(),
      devicePublicKey: new Uint8Array(65).fill(4),
      devicePlatform: 1,
      deviceRegisteredAtMs: T0,
      identityPublicKey: member.identityPublicKey,
    });
    const { statement } = await subscriptions.getSubscriptionStatement(
      { ownerGuid: member.ownerGuid },
      { timeoutMs: 5_000 },
    );
    expect(statement).toBeDefined();
    if (statement === undefined) return;
    expect(
      verifySubscriptionStatement(statement, fixture.subscriptionKeys, {
        ownerGuid: member.ownerGuid,
        nowMs: T0,
      }).ok,
    ).toBe(true);

    const proposalId = crypto.randomUUID();
    const signed = await fixture.signProposal({
      proposalId,
      opensAtMs: BigInt(T0),
      closesAtMs: BigInt(T0 + 2 * HOUR),
      choices: [Choice.YES, Choice.NO],
      quorumType: QuorumType.NONE,
      quorumValue: 0n,
    });
    await workers.backend.proposals.create({
      proposalId,
      requestId: crypto.randomUUID(),
      proposalNumber: "P0000001",
      signed,
      category: "budget",
      opensAtMs: T0,
      closesAtMs: T0 + 2 * HOUR,
      createdAtMs: T0,
    });

    clock.now = T0 + HOUR;
    const { signedVote } = castVote({
      identityPrivateKey: member.identitySeed,
      ownerGuid: member.ownerGuid,
      signedProposal: signed,
      choice: Choice.YES,
      revision: 1,
      subscriptionStatement: statement,
      trust: fixture.trust,
      countersigner: fixture.countersigner,
      nowMs: clock.now,
    });
    const { results } = await intake.submitVotes(
      {
        batchId: crypto.getRandomValues(new Uint8Array(16)),
        votes: [signedVote],
        countersigningKeys: [fixture.countersigner.certificate],
      },
      { timeoutMs: 5_000 },
    );
    expect(results.map((r) => r.disposition)).toEqual([VoteDisposition.ACCEPTED]);

    // Voting ended 17 minutes ago: past the 15-minute grace and the minute's margin.
    clock.now = T0 + 2 * HOUR + 17 * 60_000;
    const published = await until(
      () => lines.find((l) => l.event === "voting.published"),
      "the timer's publication",
    );
    expect(published).toEqual({
      level: "info",
      event: "voting.published",
      fields: { proposal_id: proposalId },
    });
    const list = await workers.backend.voteLists.get(proposalId);
    expect(list?.voteListUrl).toBe(`${PUBLIC_URL}${voteListBlobKeys(proposalId).binary}`);
    expect(list?.signedHead).toBeDefined();
    if (list?.signedHead === undefined) return;
    const head = verifySignedVoteListHead(
      list.signedHead,
      trustKeysNode([(await fixture.orgSigner.describe()).spki]),
    );
    expect(head.ok).toBe(true);
    if (!head.ok) return;
    expect(head.head.totalVotes).toBe(1n);
    expect(head.head.eligibleMemberCount).toBe(1n);
    expect((await workers.backend.proposals.get(proposalId))?.status).toBe("published");
    // Published once: later rounds find nothing due.
    expect(await workers.publishExpired()).toEqual([]);
    expect(lines.filter((l) => l.event === "voting.published")).toHaveLength(1);
  }, 60_000);

  it("logs a failing round and keeps running", async () => {
    await dynalite.client.send(
      new DeleteTableCommand({ TableName: tableName(ENVIRONMENT, "proposals") }),
    );
    const failure = await until(
      () => lines.find((l) => l.event === "voting.publish_failed"),
      "a failed round",
    );
    expect(failure.level).toBe("error");
    expect(String(failure.fields.error)).toMatch(/proposals/);
    const failures = lines.filter((l) => l.event === "voting.publish_failed").length;
    await until(
      () =>
        lines.filter((l) => l.event === "voting.publish_failed").length > failures
          ? true
          : undefined,
      "the next round",
    );
  }, 30_000);
});
