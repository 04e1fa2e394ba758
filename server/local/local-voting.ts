import type { ConnectRouter } from "@connectrpc/connect";
import type { NatsConnection } from "nats";
import type { AttestationTrustStore } from "../../clients/sdk/attestation/index.js";
import { trustKeysNode } from "../../clients/sdk/voting/node.js";
import { createFilesystemBlobStore } from "../../enclave/storage/index.js";
import { ProposalService } from "../../gen/vettid/voting/v1/proposal_service_pb.js";
import { VoteListService } from "../../gen/vettid/voting/v1/vote_list_service_pb.js";
import type { NatsRpcServer } from "../../rpc/index.js";
import { type Logger, silentLogger } from "../logging/index.js";
import { createLocalP256Signer } from "../signing/index.js";
import { createMembersTable, type DynamoContext } from "../storage/index.js";
import {
  createMembersSubscriptionSource,
  createStaticTokenAdminAuthorizer,
  createVotingBackend,
  serveVotingNats,
  type VotingBackend,
} from "../voting/index.js";

/** How often the local stack closes expired proposals and publishes their lists. */
export const LOCAL_PUBLISH_INTERVAL_MS = 60_000;

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
  readonly backend: VotingBackend;
  /** The org proposal key's SPKI (DER): what apps and the admin page pin. */
  readonly orgPublicKey: Uint8Array;
  /** Mounts ProposalService and VoteListService (pass as the local backend's `extraRoutes`). */
  routes(router: ConnectRouter): void;
  /**
   * Serves VoteIntakeService and SubscriptionStatementService on the backend's NATS connection
   * and starts closing expired proposals every minute.
   */
  serve(connection: NatsConnection): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The voting backend as the local stack runs it: local P-256 signers stand in for the two KMS
 * keys, vote lists are files, subscriptions are "every active member" (there is no billing
 * locally), and the publisher runs on a timer instead of a scheduled Lambda.
 */
export async function createLocalVoting(options: LocalVotingOptions): Promise<LocalVoting> {
  const logger = options.logger ?? silentLogger;
  const orgSigner = createLocalP256Signer({ pkcs8: options.orgKey });
  const members = createMembersTable(options.dynamo);
  const backend = createVotingBackend({
    dynamo: options.dynamo,
    blobs: createFilesystemBlobStore({ directory: options.voteListDir, maxObjectBytes: 2 ** 30 }),
    orgSigner,
    subscriptionSigner: createLocalP256Signer({ pkcs8: options.subscriptionKey }),
    orgKeys: trustKeysNode([(await orgSigner.describe()).spki]),
    attestation: options.enclaveTrust,
    authorizeAdmin: createStaticTokenAdminAuthorizer([options.adminToken]),
    subscriptions: createMembersSubscriptionSource(members),
    eligibleMemberCount: () => members.countActive(),
    voteListUrl: (key) => new URL(key, `file://${options.voteListDir}/`).href,
    logger,
  });
  let server: NatsRpcServer | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  return {
    backend,
    orgPublicKey: (await orgSigner.describe()).spki,
    routes(router) {
      router.service(ProposalService, backend.proposalService);
      router.service(VoteListService, backend.voteListService);
    },
    async serve(connection) {
      server = await serveVotingNats(connection, backend);
      timer = setInterval(() => {
        backend.publisher.closeExpired().then(
          (published) => {
            for (const id of published) logger.info("vote list published", { proposalId: id });
          },
          (error: unknown) =>
            logger.warn("closing expired proposals failed", { error: String(error) }),
        );
      }, LOCAL_PUBLISH_INTERVAL_MS);
      timer.unref();
    },
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      await server?.close();
    },
  };
}
