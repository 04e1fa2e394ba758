/**
 * Test-only: the voting backend as it runs, on real components — dynalite for the tables, a real
 * nats-server for VoteIntakeService and SubscriptionStatementService, the HTTP API (Connect) for
 * ProposalService and VoteListService on a local port, list files in a filesystem blob store —
 * with a clock the test moves, and every log line and metric captured.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { connect, type NatsConnection } from "nats";
import { trustKeysNode } from "../../../clients/sdk/voting/node.js";
import { createFilesystemBlobStore } from "../../../enclave/storage/index.js";
import { ProposalService } from "../../../gen/vettid/voting/v1/proposal_service_pb.js";
import { SubscriptionStatementService } from "../../../gen/vettid/voting/v1/subscription_pb.js";
import { VoteIntakeService } from "../../../gen/vettid/voting/v1/vote_intake_service_pb.js";
import { VoteListService } from "../../../gen/vettid/voting/v1/vote_list_service_pb.js";
import { createNatsTransport, createRpcClient, type NatsRpcServer } from "../../../rpc/index.js";
import {
  createHttpApi,
  type LocalHttpServer,
  startLocalHttpServer,
} from "../../../server/http/index.js";
import {
  createMembersTable,
  ensureTables,
  type MembersTable,
} from "../../../server/storage/index.js";
import {
  createMembersSubscriptionSource,
  createRecordingMetrics,
  createStaticTokenAdminAuthorizer,
  createVotingBackend,
  type RecordedMetric,
  serveVotingNats,
  type VotingBackend,
} from "../../../server/voting/index.js";
import { type DynaliteHandle, startDynalite } from "../../support/dynalite.js";
import { type NatsServerHandle, startNatsServer } from "../../support/nats-server.js";
import { createCapturingLogger } from "./capturing-logger.js";
import { createVotingFixture, type TestMember, type VotingFixture } from "./voting-fixture.js";

/** The admin token of the stack. */
export const ADMIN_TOKEN = "test-admin-token-0123456789";
/** The environment part of the table names. */
export const ENVIRONMENT = "votingtest";

/** See the file comment. */
export interface VotingStack {
  readonly fixture: VotingFixture;
  readonly backend: VotingBackend;
  readonly dynalite: DynaliteHandle;
  readonly members: MembersTable;
  readonly blobDirectory: string;
  /** Base URL of the HTTP API (ProposalService, VoteListService). */
  readonly httpUrl: string;
  readonly clock: { now: number };
  readonly logLines: string[];
  readonly metrics: readonly RecordedMetric[];
  readonly proposals: Client<typeof ProposalService>;
  readonly voteLists: Client<typeof VoteListService>;
  readonly intake: Client<typeof VoteIntakeService>;
  readonly subscriptions: Client<typeof SubscriptionStatementService>;
  /** The nats-server's URL (for an enclave's parent and members' apps). */
  readonly natsUrl: string;
  /** The NATS connection an enclave would submit on. */
  readonly enclaveConnection: NatsConnection;
  /** Call options carrying the admin bearer token. */
  readonly admin: { readonly headers: Record<string, string> };
  /** Enrolls a member in the members table (so their subscription counts). */
  enroll(member: TestMember): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the stack; `now` is the backend clock's start. */
export async function startVotingStack(now: number): Promise<VotingStack> {
  const fixture = await createVotingFixture();
  const dynalite = await startDynalite();
  const dynamo = { client: dynalite.client, environment: ENVIRONMENT };
  await ensureTables(dynalite.client, ENVIRONMENT, {
    tables: ["proposals", "votes", "voteLists", "members"],
  });
  const members = createMembersTable(dynamo);
  const blobDirectory = await mkdtemp(join(tmpdir(), "vettid-voting-"));
  const blobs = createFilesystemBlobStore({ directory: blobDirectory, maxObjectBytes: 2 ** 30 });
  const clock = { now };
  const logger = createCapturingLogger("voting");
  const metrics = createRecordingMetrics();
  const backend = createVotingBackend({
    dynamo,
    blobs,
    orgSigner: fixture.orgSigner,
    subscriptionSigner: fixture.subscriptionSigner,
    orgKeys: trustKeysNode([(await fixture.orgSigner.describe()).spki]),
    attestation: fixture.attestation,
    authorizeAdmin: createStaticTokenAdminAuthorizer([ADMIN_TOKEN]),
    subscriptions: createMembersSubscriptionSource(members),
    eligibleMemberCount: async () => enrolled,
    voteListUrl: (key) => `https://votes.example.invalid/${key}`,
    now: () => clock.now,
    logger,
    metrics,
  });
  let enrolled = 0;
  const nats: NatsServerHandle = await startNatsServer();
  const serverConnection = await connect({ servers: nats.url });
  const enclaveConnection = await connect({ servers: nats.url });
  const natsServer: NatsRpcServer = await serveVotingNats(serverConnection, backend);
  const api = createHttpApi({
    routes: (router) => {
      router.service(ProposalService, backend.proposalService);
      router.service(VoteListService, backend.voteListService);
    },
    logger,
    maxRequestBytes: 256 * 1024,
  });
  const http: LocalHttpServer = await startLocalHttpServer({ api });
  const transport = createConnectTransport({ baseUrl: http.url, httpVersion: "1.1" });
  const natsTransport = createNatsTransport({ connection: enclaveConnection });
  return {
    fixture,
    backend,
    dynalite,
    members,
    blobDirectory,
    httpUrl: http.url,
    clock,
    logLines: logger.lines,
    metrics: metrics.recorded,
    proposals: createClient(ProposalService, transport),
    voteLists: createClient(VoteListService, transport),
    intake: createRpcClient(VoteIntakeService, natsTransport),
    subscriptions: createRpcClient(SubscriptionStatementService, natsTransport),
    natsUrl: nats.url,
    enclaveConnection,
    admin: { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } },
    async enroll(member) {
      enrolled++;
      await members.create({
        ownerGuid: member.ownerGuid,
        enrolledAtMs: clock.now,
        enrollmentSessionId: crypto.randomUUID(),
        devicePublicKey: new Uint8Array(65).fill(4),
        devicePlatform: 1,
        deviceRegisteredAtMs: clock.now,
        identityPublicKey: member.identityPublicKey,
      });
    },
    async stop() {
      await http.close();
      await natsServer.close();
      await serverConnection.close();
      await enclaveConnection.close();
      await nats.stop();
      await dynalite.stop();
      await rm(blobDirectory, { recursive: true, force: true });
    },
  };
}
