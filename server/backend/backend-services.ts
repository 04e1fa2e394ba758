import type { ServiceImpl } from "@connectrpc/connect";
import type { KeyPair } from "@nats-io/nkeys";
import type { BlobStore } from "../../enclave/storage/index.js";
import type { CredentialBackupService } from "../../gen/vettid/backup/v1/credential_backup_pb.js";
import type { EnrollmentService } from "../../gen/vettid/enrollment/v1/enrollment_pb.js";
import type { MemberCredentialService } from "../../gen/vettid/enrollment/v1/member_credential_pb.js";
import {
  type AccountAuthenticator,
  createCredentialBackupService,
  type RecoveryNotifier,
} from "../credential-backup/index.js";
import {
  createDeviceProofChecker,
  createEnrollmentService,
  type DeviceAttestationVerifier,
  type EnclaveGateway,
} from "../enrollment/index.js";
import type { Logger } from "../logging/index.js";
import {
  type CredentialIssuance,
  createCredentialIssuance,
  createMemberCredentialService,
} from "../member-credentials/index.js";
import { createMemberCredentialIssuer } from "../nats-auth/index.js";
import {
  createCredentialBackupsTable,
  createDeviceProofNoncesTable,
  createEnrollmentSessionsTable,
  createInvitationsTable,
  createMembersTable,
  createNatsTokensTable,
  createRevocationsTable,
  type DynamoContext,
} from "../storage/index.js";
import {
  type BackendRateLimiters,
  type BackendRateLimits,
  createBackendRateLimiters,
} from "./backend-rate-limiters.js";

/** What every backend HTTP service needs. */
export interface BackendServiceContext {
  readonly dynamo: DynamoContext;
  readonly devices: DeviceAttestationVerifier;
  /** Limits other than the defaults; counters always live in the `rateLimits` table. */
  readonly rateLimits?: BackendRateLimits;
  /** Clock of the services (sessions, proofs, recovery delays). Default `Date.now`. */
  readonly now?: () => number;
  readonly logger?: Logger;
}

/** How member NATS JWTs are signed. */
export interface MemberIssuingKeys {
  /** The VETTID account's public key (`A…`). */
  readonly accountPublicKey: string;
  /** The account's scoped member signing key, with its seed. */
  readonly memberSigningKey: KeyPair;
  /** NATS URLs handed to apps (`tls://os.vettid.dev:443`). */
  readonly memberNatsUrls: readonly string[];
}

function shared(context: BackendServiceContext, limiters: BackendRateLimiters) {
  const proofs = createDeviceProofChecker({
    nonces: createDeviceProofNoncesTable(context.dynamo),
    ...(context.now === undefined ? {} : { now: context.now }),
  });
  return { proofs, members: createMembersTable(context.dynamo), limiters };
}

function issuance(
  context: BackendServiceContext,
  keys: MemberIssuingKeys,
  limiters: BackendRateLimiters,
): CredentialIssuance {
  return createCredentialIssuance({
    issuer: createMemberCredentialIssuer({
      accountPublicKey: keys.accountPublicKey,
      signingKey: keys.memberSigningKey,
      serverUrls: keys.memberNatsUrls,
      rateLimiter: limiters.issuance,
    }),
    tokens: createNatsTokensTable(context.dynamo),
    revocations: createRevocationsTable(context.dynamo),
  });
}

/** EnrollmentService over DynamoDB, the enclave gateway and the member issuing key. */
export function enrollmentService(
  context: BackendServiceContext,
  options: { readonly enclave: EnclaveGateway; readonly keys: MemberIssuingKeys },
): ServiceImpl<typeof EnrollmentService> {
  const limiters = createBackendRateLimiters(context.dynamo, context.rateLimits);
  const { proofs, members } = shared(context, limiters);
  return createEnrollmentService({
    invitations: createInvitationsTable(context.dynamo),
    sessions: createEnrollmentSessionsTable(context.dynamo),
    members,
    enclave: options.enclave,
    devices: context.devices,
    proofs,
    credentials: issuance(context, options.keys, limiters),
    startLimits: {
      perAddress: limiters.enrollStartPerAddress,
      perInvitation: limiters.enrollStartPerInvitation,
    },
    ...(context.now === undefined ? {} : { now: context.now }),
    ...(context.logger === undefined ? {} : { logger: context.logger }),
  });
}

/** MemberCredentialService over DynamoDB and the member issuing key. */
export function memberCredentialService(
  context: BackendServiceContext,
  options: { readonly keys: MemberIssuingKeys },
): ServiceImpl<typeof MemberCredentialService> {
  const limiters = createBackendRateLimiters(context.dynamo, context.rateLimits);
  const { proofs, members } = shared(context, limiters);
  return createMemberCredentialService({
    members,
    proofs,
    credentials: issuance(context, options.keys, limiters),
  });
}

/** CredentialBackupService over DynamoDB and a blob store. */
export function credentialBackupService(
  context: BackendServiceContext,
  options: {
    readonly blobs: BlobStore;
    readonly accounts: AccountAuthenticator;
    readonly notifier: RecoveryNotifier;
  },
): ServiceImpl<typeof CredentialBackupService> {
  const limiters = createBackendRateLimiters(context.dynamo, context.rateLimits);
  const { proofs, members } = shared(context, limiters);
  return createCredentialBackupService({
    backups: createCredentialBackupsTable(context.dynamo),
    members,
    blobs: options.blobs,
    proofs,
    devices: context.devices,
    accounts: options.accounts,
    notifier: options.notifier,
    recoveryLimit: limiters.recoveryPerMember,
    ...(context.now === undefined ? {} : { now: context.now }),
    ...(context.logger === undefined ? {} : { logger: context.logger }),
  });
}
