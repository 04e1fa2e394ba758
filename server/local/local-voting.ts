import type { ConnectRouter } from "@connectrpc/connect";
import type { NatsConnection } from "nats";
import type { AttestationTrustStore } from "../../clients/sdk/attestation/index.js";
import { trustKeysNode } from "../../clients/sdk/voting/node.js";
import { createFilesystemBlobStore } from "../../enclave/storage/index.js";
import { ProposalService } from "../../gen/vettid/voting/v1/proposal_service_pb.js";
import { VoteListService } from "../../gen/vettid/voting/v1/vote_list_service_pb.js";
import { type Logger, silentLogger } from "../logging/index.js";
import { createLocalP256Signer } from "../signing/index.js";
import { createMembersTable, type DynamoContext } from "../storage/index.js";
import {
  createMembersSubscriptionSource,
  createStaticTokenAdminAuthorizer,
  createVotingBackend,
  type VotingBackend,
} from "../voting/index.js";
import {
  startVotingWorkers,
  VOTE_LIST_MAX_OBJECT_BYTES,
  type VotingWorkers,
} from "../workers/index.js";

/** Options of {@link createLocalVoting}. */
export interface LocalVotingOptions {
  readonly dynamo: DynamoContext;
  /** Folder of the published vote list files. */
  readonly voteListDir: string;
  /** The org proposal key and the subscription statement key, PKCS#8 DER (local signers). */
  readonly orgKey: Uint8Array;
  readonly subscriptionKey: Uint8Array;
  /** Bearer token of the admin calls. */
  readonly adminToken: string;
  /** The enclave builds whose countersignatures count (the local enclave's). */
  readonly enclaveTrust: AttestationTrustStore;
  readonly logger?: Logger;
}

/** The voting backend of the local stack. */
export interface LocalVoting {
  /** The HTTP side (ProposalService with the admin token, VoteListService). */
  readonly backend: VotingBackend;
  /** The org proposal key's SPKI (DER): what apps and the admin page pin. */
  readonly orgPublicKey: Uint8Array;
  /** Mounts ProposalService and VoteListService (pass as the local backend's `extraRoutes`). */
  routes(router: ConnectRouter): void;
  /**
   * Starts the workers' voting on the backend's NATS connection, as in AWS: VoteIntakeService
   * and SubscriptionStatementService, and expired proposals closed and published every minute.
   */
  serve(connection: NatsConnection): Promise<VotingWorkers>;
  stop(): Promise<void>;
}

/**
 * The voting backend as the local stack runs it, split as in AWS: the HTTP services (the
 * ProposalService Lambda, with admin tokens; the VoteListService Lambda) and the workers' voting
 * (`server/workers/voting-workers.ts`) over the same tables. Local P-256 signers stand in for the
 * two KMS keys, vote lists are files, subscriptions are "every active member" (there is no
 * billing locally).
 */
export async function createLocalVoting(options: LocalVotingOptions): Promise<LocalVoting> {
  const logger = options.logger ?? silentLogger;
  const orgSigner = createLocalP256Signer({ pkcs8: options.orgKey });
  const subscriptionSigner = createLocalP256Signer({ pkcs8: options.subscriptionKey });
  const members = createMembersTable(options.dynamo);
  const blobs = createFilesystemBlobStore({
    directory: options.voteListDir,
    maxObjectBytes: VOTE_LIST_MAX_OBJECT_BYTES,
  });
  const publicUrl = `file://${options.voteListDir}/`;
  const backend = createVotingBackend({
    dynamo: options.dynamo,
    blobs,
    orgSigner,
    subscriptionSigner,
    orgKeys: trustKeysNode([(await orgSigner.describe()).spki]),
    attestation: options.enclaveTrust,
    authorizeAdmin: createStaticTokenAdminAuthorizer([options.adminToken]),
    subscriptions: createMembersSubscriptionSource(members),
    eligibleMemberCount: () => members.countActive(),
    voteListUrl: (key) => new URL(key, publicUrl).href,
    logger,
  });
  let workers: VotingWorkers | undefined;
  return {
    backend,
    orgPublicKey: (await orgSigner.describe()).spki,
    routes(router) {
      router.service(ProposalService, backend.proposalService);
      router.service(VoteListService, backend.voteListService);
    },
    async serve(connection) {
      workers = await startVotingWorkers({
        connection,
        dynamo: options.dynamo,
        blobs,
        orgSigner,
        subscriptionSigner,
        attestation: options.enclaveTrust,
        publicUrl,
        logger,
      });
      return workers;
    },
    async stop() {
      await workers?.close();
    },
  };
}
