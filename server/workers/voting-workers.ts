import { KMSClient } from "@aws-sdk/client-kms";
import { S3Client } from "@aws-sdk/client-s3";
import { Code, ConnectError } from "@connectrpc/connect";
import type { NatsConnection } from "nats";
import type { AttestationTrustStore } from "../../clients/sdk/attestation/index.js";
import { trustKeysNode } from "../../clients/sdk/voting/node.js";
import type { BlobStore } from "../../enclave/storage/index.js";
import type { NatsRpcServer } from "../../rpc/index.js";
import {
  type CommonConfig,
  ConfigurationError,
  type Environment,
  readEnclaveTrust,
  required,
} from "../config/index.js";
import { describeError, type Logger, silentLogger } from "../logging/index.js";
import { createKmsSigner, type OrgSigner } from "../signing/index.js";
import { createMembersTable, createS3BlobStore, type DynamoContext } from "../storage/index.js";
import {
  createMembersSubscriptionSource,
  createVotingBackend,
  serveVotingNats,
  type VotingBackend,
} from "../voting/index.js";

/** `VETTID_KMS_PROPOSAL_KEY_ARN`: the org key (proposals, vote-list heads), ECDSA P-256 in KMS. */
export const ENV_KMS_PROPOSAL_KEY_ARN = "VETTID_KMS_PROPOSAL_KEY_ARN";
/** `VETTID_KMS_SUBSCRIPTION_KEY_ARN`: the subscription statement key, ECDSA P-256 in KMS. */
export const ENV_KMS_SUBSCRIPTION_KEY_ARN = "VETTID_KMS_SUBSCRIPTION_KEY_ARN";
/** `VETTID_BUCKET_VOTE_LISTS`: the bucket of vote-list files and enclave key certificates. */
export const ENV_BUCKET_VOTE_LISTS = "VETTID_BUCKET_VOTE_LISTS";
/** `VETTID_BUCKET_VOTE_LISTS_PREFIX`: the key prefix granted in that bucket (`""` or `…/`). */
export const ENV_BUCKET_VOTE_LISTS_PREFIX = "VETTID_BUCKET_VOTE_LISTS_PREFIX";
/**
 * `VETTID_VOTE_LISTS_PUBLIC_URL`: the public base URL of the vote-lists store:
 * `{url}vote-lists/{id}.binpb` must serve the object `{prefix}vote-lists/{id}.binpb`
 * (`ProposalResults.vote_list_url`). https (http outside production).
 */
export const ENV_VOTE_LISTS_PUBLIC_URL = "VETTID_VOTE_LISTS_PUBLIC_URL";

/**
 * The variables that switch voting on: with none of them set the workers run without voting
 * (allowed outside production only); with any of them set, all are required.
 */
export const VOTING_VARIABLES: readonly string[] = [
  ENV_KMS_PROPOSAL_KEY_ARN,
  ENV_KMS_SUBSCRIPTION_KEY_ARN,
  ENV_BUCKET_VOTE_LISTS,
  ENV_VOTE_LISTS_PUBLIC_URL,
];

/** How often expired proposals are closed and their lists published. */
export const PUBLISH_INTERVAL_MS = 60_000;

/**
 * Largest list file the workers write: 1 GiB (a million votes are about 430 MB binary and
 * 700 MB JSON), as the local stack.
 */
export const VOTE_LIST_MAX_OBJECT_BYTES = 2 ** 30;

/** The voting configuration of the workers, checked. */
export interface VotingWorkerConfig {
  readonly proposalKeyArn: string;
  readonly subscriptionKeyArn: string;
  readonly bucket: string;
  /** `""` or a prefix ending in `/`. */
  readonly prefix: string;
  /** Ends in `/`. */
  readonly publicUrl: string;
  readonly attestation: AttestationTrustStore;
}

const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_-]+$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KEY_PREFIX = /^([A-Za-z0-9._-]+\/)*$/;

/**
 * Reads the workers' voting configuration: `undefined` when none of {@link VOTING_VARIABLES} is
 * set (outside production; in production voting is required), otherwise every variable checked
 * (a missing or malformed one is a {@link ConfigurationError} naming it), plus the accepted
 * enclave builds (`VETTID_ENCLAVE_PCR_SETS`, and in development the dev root flags).
 */
export function readVotingWorkerConfig(
  env: Environment,
  common: Pick<CommonConfig, "production">,
): VotingWorkerConfig | undefined {
  const set = VOTING_VARIABLES.filter((v) => env[v] !== undefined && env[v] !== "");
  if (set.length === 0) {
    if (!common.production) return undefined;
    throw new ConfigurationError(
      `${VOTING_VARIABLES.join(", ")} are required in production (the workers serve voting)`,
    );
  }
  const missing = VOTING_VARIABLES.filter((v) => !set.includes(v));
  if (missing.length > 0) {
    throw new ConfigurationError(
      `${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} required: voting is configured (${set.join(", ")} set)`,
    );
  }
  const proposalKeyArn = kmsKeyArn(env, ENV_KMS_PROPOSAL_KEY_ARN);
  const subscriptionKeyArn = kmsKeyArn(env, ENV_KMS_SUBSCRIPTION_KEY_ARN);
  if (proposalKeyArn === subscriptionKeyArn) {
    throw new ConfigurationError(
      `${ENV_KMS_SUBSCRIPTION_KEY_ARN} must name a different key than ${ENV_KMS_PROPOSAL_KEY_ARN}`,
    );
  }
  const bucket = required(env, ENV_BUCKET_VOTE_LISTS);
  if (!BUCKET_NAME.test(bucket)) {
    throw new ConfigurationError(`${ENV_BUCKET_VOTE_LISTS} must be an S3 bucket name`);
  }
  const prefix = env[ENV_BUCKET_VOTE_LISTS_PREFIX] ?? "";
  if (!KEY_PREFIX.test(prefix)) {
    throw new ConfigurationError(
      `${ENV_BUCKET_VOTE_LISTS_PREFIX} must be empty or a key prefix ending in /`,
    );
  }
  return {
    proposalKeyArn,
    subscriptionKeyArn,
    bucket,
    prefix,
    publicUrl: publicBaseUrl(env, common.production),
    attestation: readEnclaveTrust(env, common.production),
  };
}

function kmsKeyArn(env: Environment, variable: string): string {
  const value = required(env, variable);
  if (!KMS_KEY_ARN.test(value)) {
    throw new ConfigurationError(`${variable} must be a KMS key or alias ARN`);
  }
  return value;
}

function publicBaseUrl(env: Environment, production: boolean): string {
  const value = required(env, ENV_VOTE_LISTS_PUBLIC_URL);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(
      `${ENV_VOTE_LISTS_PUBLIC_URL}: ${JSON.stringify(value)} is not a URL`,
    );
  }
  const schemes = production ? ["https:"] : ["https:", "http:"];
  if (!schemes.includes(url.protocol)) {
    throw new ConfigurationError(
      `${ENV_VOTE_LISTS_PUBLIC_URL} must use ${schemes.join(" or ")}${production ? " in production" : ""}`,
    );
  }
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
    throw new ConfigurationError(
      `${ENV_VOTE_LISTS_PUBLIC_URL} must be a plain base URL (no query, fragment or credentials)`,
    );
  }
  return url.href.endsWith("/") ? url.href : `${url.href}/`;
}

/** Options of {@link startVotingWorkers}. */
export interface VotingWorkersOptions {
  /** The backend user's NATS connection (shared with the other workers). */
  readonly connection: NatsConnection;
  readonly dynamo: DynamoContext;
  /** Vote-list files and enclave key certificates (S3 in AWS). */
  readonly blobs: BlobStore;
  /** The org key (KMS in AWS); its public key is also what the backend pins. */
  readonly orgSigner: OrgSigner;
  readonly subscriptionSigner: OrgSigner;
  readonly attestation: AttestationTrustStore;
  /** Public base URL of the list files, ending in `/`. */
  readonly publicUrl: string;
  /** Default {@link PUBLISH_INTERVAL_MS}. */
  readonly publishIntervalMs?: number;
  readonly now?: () => number;
  readonly logger?: Logger;
}

/** The running voting work. */
export interface VotingWorkers {
  readonly backend: VotingBackend;
  /** VoteIntakeService and SubscriptionStatementService on NATS. */
  readonly server: NatsRpcServer;
  /**
   * One publication round now (what the timer runs): the ids published. Errors are logged, not
   * thrown; a round already running is joined, not repeated.
   */
  publishExpired(): Promise<string[]>;
  /** Stops the timer and the NATS services and waits for a running round (the connection stays). */
  close(): Promise<void>;
}

/**
 * The voting work of the backend workers: VoteIntakeService (`Backend.votes`) and
 * SubscriptionStatementService (`Backend.subscriptions`) served on the workers' NATS connection,
 * and `closeExpired()` every minute. Subscriptions are "every active member" (the members
 * table), and the eligible count is the members table's active count. The org keys the backend
 * checks stored proposals against are the org signer's own public key. ProposalService and
 * VoteListService are the Lambdas' (HTTP); admin calls are refused here.
 */
export async function startVotingWorkers(options: VotingWorkersOptions): Promise<VotingWorkers> {
  const logger = options.logger ?? silentLogger;
  const members = createMembersTable(options.dynamo);
  const { spki } = await options.orgSigner.describe();
  const backend = createVotingBackend({
    dynamo: options.dynamo,
    blobs: options.blobs,
    orgSigner: options.orgSigner,
    subscriptionSigner: options.subscriptionSigner,
    orgKeys: trustKeysNode([spki]),
    attestation: options.attestation,
    authorizeAdmin: async () => {
      throw new ConnectError("admin calls are not served by the workers", Code.Unauthenticated);
    },
    subscriptions: createMembersSubscriptionSource(members),
    eligibleMemberCount: () => members.countActive(),
    voteListUrl: (key) => new URL(key, options.publicUrl).href,
    ...(options.now === undefined ? {} : { now: options.now }),
    logger,
  });
  const server = await serveVotingNats(options.connection, backend);

  let running: Promise<string[]> | undefined;
  const publishExpired = (): Promise<string[]> => {
    running ??= backend.publisher
      .closeExpired()
      .then(
        (published) => {
          for (const id of published) logger.info("voting.published", { proposal_id: id });
          return published;
        },
        (error: unknown) => {
          logger.error("voting.publish_failed", { error: describeError(error) });
          return [];
        },
      )
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(
    () => void publishExpired(),
    options.publishIntervalMs ?? PUBLISH_INTERVAL_MS,
  );
  timer.unref();
  return {
    backend,
    server,
    publishExpired,
    async close() {
      clearInterval(timer);
      await server.close();
      await running;
    },
  };
}

/** Clients of {@link startVotingWorkersFromConfig}; default ones from the task's role. */
export interface VotingWorkersClients {
  readonly kms?: KMSClient;
  readonly s3?: S3Client;
}

/**
 * {@link startVotingWorkers} from a checked configuration: KMS signers for the two keys (the
 * org key's public key is fetched, and checked, before anything is served), the S3 bucket.
 */
export function startVotingWorkersFromConfig(
  config: VotingWorkerConfig,
  context: {
    readonly connection: NatsConnection;
    readonly dynamo: DynamoContext;
    readonly logger?: Logger;
  },
  clients: VotingWorkersClients = {},
): Promise<VotingWorkers> {
  const kms = clients.kms ?? new KMSClient({});
  return startVotingWorkers({
    connection: context.connection,
    dynamo: context.dynamo,
    blobs: createS3BlobStore({
      client: clients.s3 ?? new S3Client({}),
      bucket: config.bucket,
      ...(config.prefix === "" ? {} : { keyPrefix: config.prefix }),
      maxObjectBytes: VOTE_LIST_MAX_OBJECT_BYTES,
    }),
    orgSigner: createKmsSigner({ client: kms, keyId: config.proposalKeyArn }),
    subscriptionSigner: createKmsSigner({ client: kms, keyId: config.subscriptionKeyArn }),
    attestation: config.attestation,
    publicUrl: config.publicUrl,
    ...(context.logger === undefined ? {} : { logger: context.logger }),
  });
}
