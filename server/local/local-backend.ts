import type { ConnectRouter } from "@connectrpc/connect";
import { decode } from "@nats-io/jwt";
import { createUser } from "@nats-io/nkeys";
import { connect, jwtAuthenticator, type NatsConnection } from "nats";
import type { AttestationTrustStore } from "../../clients/sdk/attestation/index.js";
import type { BlobStore } from "../../enclave/storage/index.js";
import { CredentialBackupService } from "../../gen/vettid/backup/v1/credential_backup_pb.js";
import { EnrollmentService } from "../../gen/vettid/enrollment/v1/enrollment_pb.js";
import { MemberCredentialService } from "../../gen/vettid/enrollment/v1/member_credential_pb.js";
import {
  type BackendRateLimits,
  type BackendServiceContext,
  credentialBackupService,
  enrollmentService,
  memberCredentialService,
} from "../backend/index.js";
import type { OperatorControlKeys } from "../control-audit/index.js";
import {
  createDevAccountAuthenticator,
  createLoggingRecoveryNotifier,
  type RecoveryNotice,
} from "../credential-backup/index.js";
import {
  createDeviceAttestationVerifier,
  createNatsEnclaveGateway,
  type EnclaveGateway,
} from "../enrollment/index.js";
import { createHttpApi, type HttpApi, startLocalHttpServer } from "../http/index.js";
import { type Logger, silentLogger } from "../logging/index.js";
import {
  issueResolverUpdateUser,
  issueServiceUser,
  type NatsTrust,
  pushAccountJwt,
} from "../nats-auth/index.js";
import { createNatsAccountsTable, type DynamoContext } from "../storage/index.js";
import { type BackendWorkers, startBackendWorkers } from "../workers/index.js";

/** Options of {@link startLocalBackend}. */
export interface LocalBackendOptions {
  /** The nats-server (operator mode, configured from `trust`). */
  readonly natsUrl: string;
  /** The operator and accounts with their keys (the local stack holds them all). */
  readonly trust: NatsTrust;
  readonly dynamo: DynamoContext;
  /** Where credential backups go (a directory locally). */
  readonly blobs: BlobStore;
  /** What the enclave gateway trusts (the dev NSM's root and the measured PCRs, locally). */
  readonly enclaveTrust: AttestationTrustStore;
  /** The pinned operator control keys (audit trail and revocations). */
  readonly operatorKeys: OperatorControlKeys;
  /** Key of development account tokens (RequestRecovery sign-in). */
  readonly accountTokenKey: Uint8Array;
  /** NATS URLs handed to apps. Default `[natsUrl]`. */
  readonly memberNatsUrls?: readonly string[];
  /** Port of the HTTP API. Default 0 (a free one). */
  readonly httpPort?: number;
  readonly rateLimits?: BackendRateLimits;
  /** Clock of the services (sessions, proofs, recovery delays). Default `Date.now`. */
  readonly now?: () => number;
  readonly logger?: Logger;
  /** Receives recovery notices (the cancel token), standing in for email and push. */
  readonly onRecoveryNotice?: (notice: RecoveryNotice) => void;
  /** More services on the same HTTP API (the voting services). */
  readonly extraRoutes?: (router: ConnectRouter) => void;
}

/** The local backend: the HTTP API on a port, the NATS workers, and their connections. */
export interface LocalBackend {
  /** Base URL of the HTTP API (`http://127.0.0.1:PORT`). */
  readonly url: string;
  /** The same API the Lambda adapter serves (`createApiGatewayHandler(api)`). */
  readonly api: HttpApi;
  readonly workers: BackendWorkers;
  /** The enclave gateway the enrollment service uses. */
  readonly enclave: EnclaveGateway;
  /** The backend user's NATS connection. */
  readonly connection: NatsConnection;
  stop(): Promise<void>;
}

/**
 * Starts the backend as `npm start` and the integration tests run it: every HTTP service behind
 * one local Connect server, the control audit worker holding the operator signing key (so
 * revocations update, store and push the account JWT), a backend NATS user and a system-account
 * resolver-update user made at start. The account JWT is stored first if the table has none.
 */
export async function startLocalBackend(options: LocalBackendOptions): Promise<LocalBackend> {
  const logger = options.logger ?? silentLogger;
  const { trust, dynamo } = options;
  const accounts = createNatsAccountsTable(dynamo);
  if ((await accounts.get(trust.account.publicKey)) === undefined) {
    await accounts.replace(
      trust.account.publicKey,
      { jwt: trust.account.jwt, jwtId: decode(trust.account.jwt).jti },
      undefined,
      Date.now(),
    );
  }

  const backendKey = createUser();
  const backend = await issueServiceUser({
    role: "backend",
    userPublicKey: backendKey.getPublicKey(),
    accountPublicKey: trust.account.publicKey,
    signingKey: trust.account.serviceSigningKey,
    name: "backend-local",
  });
  const connection = await connect({
    servers: options.natsUrl,
    name: "vettid-local-backend",
    authenticator: jwtAuthenticator(backend.jwt, backendKey.getSeed()),
  });
  const updaterKey = createUser();
  const updater = await connect({
    servers: options.natsUrl,
    name: "vettid-local-resolver-update",
    authenticator: jwtAuthenticator(
      await issueResolverUpdateUser({
        userPublicKey: updaterKey.getPublicKey(),
        systemAccountKey: trust.systemAccount.identityKey,
      }),
      updaterKey.getSeed(),
    ),
  });

  const context: BackendServiceContext = {
    dynamo,
    devices: createDeviceAttestationVerifier({ allowUnattested: true }),
    ...(options.rateLimits === undefined ? {} : { rateLimits: options.rateLimits }),
    ...(options.now === undefined ? {} : { now: options.now }),
    logger,
  };
  const keys = {
    accountPublicKey: trust.account.publicKey,
    memberSigningKey: trust.account.memberSigningKey,
    memberNatsUrls: options.memberNatsUrls ?? [options.natsUrl],
  };
  const enclave = createNatsEnclaveGateway({ connection, trust: options.enclaveTrust, logger });
  const api = createHttpApi({
    logger,
    routes: (router) => {
      router.service(EnrollmentService, enrollmentService(context, { enclave, keys }));
      router.service(MemberCredentialService, memberCredentialService(context, { keys }));
      router.service(
        CredentialBackupService,
        credentialBackupService(context, {
          blobs: options.blobs,
          accounts: createDevAccountAuthenticator(options.accountTokenKey),
          notifier: createLoggingRecoveryNotifier(logger, options.onRecoveryNotice),
        }),
      );
      options.extraRoutes?.(router);
    },
  });
  const server = await startLocalHttpServer({
    api,
    ...(options.httpPort === undefined ? {} : { port: options.httpPort }),
  });
  const workers = startBackendWorkers({
    connection,
    dynamo,
    operatorKeys: options.operatorKeys,
    accountSigning: {
      accounts,
      accountPublicKey: trust.account.publicKey,
      operatorSigningKey: trust.operator.signingKey,
      pushAccountJwt: (jwt) => pushAccountJwt(updater, jwt),
    },
    ...(options.now === undefined ? {} : { now: options.now }),
    logger,
  });

  return {
    url: server.url,
    api,
    workers,
    enclave,
    connection,
    async stop() {
      await server.close();
      await workers.close();
      await connection.drain().catch(() => {});
      await updater.close().catch(() => {});
    },
  };
}
