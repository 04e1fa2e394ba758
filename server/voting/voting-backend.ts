import type { NatsConnection } from "nats";
import type { AttestationTrustStore } from "../../clients/sdk/attestation/index.js";
import type { TrustedKeys } from "../../clients/sdk/voting/index.js";
import type { BlobStore } from "../../enclave/storage/index.js";
import { SubscriptionStatementService } from "../../gen/vettid/voting/v1/subscription_pb.js";
import { VoteIntakeService } from "../../gen/vettid/voting/v1/vote_intake_service_pb.js";
import { type NatsRpcServer, serveNats } from "../../rpc/index.js";
import type { Logger } from "../logging/index.js";
import type { OrgSigner } from "../signing/index.js";
import type { DynamoContext } from "../storage/index.js";
import type { AdminAuthorizer } from "./admin-authorizer.js";
import { createEnclaveKeyStore, type EnclaveKeyStore } from "./enclave-keys.js";
import { createProposalService } from "./proposal-service.js";
import { createProposalsTable, type ProposalsTable } from "./proposals-table.js";
import {
  createSubscriptionStatementService,
  type SubscriptionSource,
} from "./subscription-service.js";
import { createVoteIntakeService, VOTE_INTAKE_MAX_REQUEST_BYTES } from "./vote-intake-service.js";
import { createVoteListService } from "./vote-list-service.js";
import { createVoteListsTable, type VoteListsTable } from "./vote-lists-table.js";
import { createVotePublisher, type VotePublisher } from "./vote-publisher.js";
import { createVotesTable, type VotesTable } from "./votes-table.js";
import type { VotingMetrics } from "./voting-metrics.js";

/** Everything the voting backend is built from. */
export interface VotingBackendOptions {
  readonly dynamo: DynamoContext;
  /** Vote list files and enclave key certificates (S3 in production; a directory locally). */
  readonly blobs: BlobStore;
  /** The org key (proposals, vote list heads). */
  readonly orgSigner: OrgSigner;
  /** The subscription statement key. */
  readonly subscriptionSigner: OrgSigner;
  /** The pinned org keys the backend checks stored proposals against. */
  readonly orgKeys: TrustedKeys;
  /** Enclave builds whose countersignatures are accepted. */
  readonly attestation: AttestationTrustStore;
  readonly authorizeAdmin: AdminAuthorizer;
  readonly subscriptions: SubscriptionSource;
  /** Members with an active subscription at a time (turnout quorum). */
  readonly eligibleMemberCount: (atMs: number) => Promise<number>;
  /** Public URL of a list file by blob key. */
  readonly voteListUrl: (blobKey: string) => string;
  readonly now?: () => number;
  readonly logger?: Logger;
  readonly metrics?: VotingMetrics;
}

/** The voting backend's parts, wired. */
export interface VotingBackend {
  readonly proposals: ProposalsTable;
  readonly votes: VotesTable;
  readonly voteLists: VoteListsTable;
  readonly enclaveKeys: EnclaveKeyStore;
  /** HTTP services: mount on the HTTP router (`router.service(ProposalService, …)`). */
  readonly proposalService: ReturnType<typeof createProposalService>;
  readonly voteListService: ReturnType<typeof createVoteListService>;
  /** NATS services: {@link serveVotingNats}. */
  readonly voteIntakeService: ReturnType<typeof createVoteIntakeService>;
  readonly subscriptionService: ReturnType<typeof createSubscriptionStatementService>;
  /** Run `closeExpired()` on a schedule (every minute). */
  readonly publisher: VotePublisher;
}

/** Builds the voting backend from its options. */
export function createVotingBackend(options: VotingBackendOptions): VotingBackend {
  const proposals = createProposalsTable(options.dynamo);
  const votes = createVotesTable(options.dynamo);
  const voteLists = createVoteListsTable(options.dynamo);
  const enclaveKeys = createEnclaveKeyStore(options.blobs, options.attestation);
  const common = {
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
  };
  return {
    proposals,
    votes,
    voteLists,
    enclaveKeys,
    proposalService: createProposalService({
      proposals,
      voteLists,
      signer: options.orgSigner,
      authorizeAdmin: options.authorizeAdmin,
      ...common,
    }),
    voteListService: createVoteListService({ proposals, voteLists, blobs: options.blobs }),
    voteIntakeService: createVoteIntakeService({
      proposals,
      votes,
      enclaveKeys,
      orgKeys: options.orgKeys,
      ...common,
    }),
    subscriptionService: createSubscriptionStatementService({
      signer: options.subscriptionSigner,
      subscriptions: options.subscriptions,
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    }),
    publisher: createVotePublisher({
      proposals,
      votes,
      voteLists,
      enclaveKeys,
      blobs: options.blobs,
      signer: options.orgSigner,
      orgKeys: options.orgKeys,
      eligibleMemberCount: options.eligibleMemberCount,
      voteListUrl: options.voteListUrl,
      ...common,
    }),
  };
}

/**
 * Serves VoteIntakeService (`Backend.votes`) and SubscriptionStatementService
 * (`Backend.subscriptions`) on NATS, requests up to 1 MiB.
 */
export function serveVotingNats(
  connection: NatsConnection,
  backend: VotingBackend,
): Promise<NatsRpcServer> {
  return serveNats({
    connection,
    name: "vettid-voting",
    description: "Vote intake and subscription statements",
    readMaxBytes: VOTE_INTAKE_MAX_REQUEST_BYTES,
    routes: (router) => {
      router.service(VoteIntakeService, backend.voteIntakeService);
      router.service(SubscriptionStatementService, backend.subscriptionService);
    },
  });
}
