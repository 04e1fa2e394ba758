import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { equalBytes } from "@noble/curves/utils.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import type { BlobStore } from "../../enclave/storage/index.js";
import {
  type CancelRecoveryResponse,
  CancelRecoveryResponseSchema,
  type CredentialBackupInfo,
  CredentialBackupInfoSchema,
  type CredentialBackupService,
  type DownloadCredentialBackupResponse,
  DownloadCredentialBackupResponseSchema,
  type RecoveryRequest,
  RecoveryRequestSchema,
  RecoveryStatus,
  type RequestRecoveryResponse,
  RequestRecoveryResponseSchema,
  type UploadCredentialBackupResponse,
  UploadCredentialBackupResponseSchema,
} from "../../gen/vettid/backup/v1/credential_backup_pb.js";
import { DeviceProofPurpose } from "../../gen/vettid/enrollment/v1/device_pb.js";
import {
  checkDeviceAttestationShape,
  type DeviceAttestationVerifier,
} from "../enrollment/device-attestation.js";
import type { DeviceProofChecker } from "../enrollment/device-proof.js";
import {
  invalidArgument,
  requireBytes,
  requirePresent,
  requireUuid,
} from "../enrollment/request-fields.js";
import { type Logger, silentLogger } from "../logging/index.js";
import type { RequestRateLimiter } from "../rate-limits/index.js";
import type {
  CredentialBackupRecord,
  CredentialBackupsTable,
  RecoveryRecord,
} from "../storage/credential-backups-table.js";
import type { MemberRecord, MembersTable } from "../storage/members-table.js";
import type { AccountAuthenticator } from "./account-authenticator.js";
import type { RecoveryNotifier } from "./recovery-notifier.js";

/** The recovery delay (backup.proto): 24 hours, so a thief cannot take over quietly. */
export const RECOVERY_DELAY_MS = 24 * 60 * 60 * 1000;

/** How long a recovery can be downloaded once available (backup.proto): 7 days. */
export const RECOVERY_DOWNLOAD_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

/** Largest encrypted backup (backup.proto: 1 byte to 64 KiB). */
export const MAX_CREDENTIAL_BACKUP_BYTES = 64 * 1024;

/** Length of a cancel token (backup.proto: 32 bytes). */
export const CANCEL_TOKEN_LENGTH = 32;

/** What the credential backup service works with. */
export interface CredentialBackupServiceOptions {
  readonly backups: CredentialBackupsTable;
  readonly members: MembersTable;
  /** Where the encrypted backups are kept (S3 in production, a directory locally). */
  readonly blobs: BlobStore;
  readonly proofs: DeviceProofChecker;
  readonly devices: DeviceAttestationVerifier;
  readonly accounts: AccountAuthenticator;
  readonly notifier: RecoveryNotifier;
  /** RequestRecovery limit per member (a stolen account sign-in cannot spam the member). */
  readonly recoveryLimit?: RequestRateLimiter;
  /** Clock in ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  readonly logger?: Logger;
}

/**
 * `vettid.backup.v1.CredentialBackupService` (backup.proto): device-encrypted credential backups
 * and the 24-hour, cancellable recovery onto a new device. The bytes go to the blob store under
 * `<owner_guid>/credential-backup-<version>`; the metadata and recoveries to the
 * `credentialBackups` table, versions and the one-recovery-at-a-time slot by conditional writes.
 */
export function createCredentialBackupService(
  options: CredentialBackupServiceOptions,
): ServiceImpl<typeof CredentialBackupService> {
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const { backups, members, blobs, proofs, devices } = options;

  const info = (record: CredentialBackupRecord): CredentialBackupInfo =>
    create(CredentialBackupInfoSchema, {
      backupVersion: BigInt(record.backupVersion),
      checksum: record.checksum,
      sizeBytes: BigInt(record.sizeBytes),
      uploadedAtMs: BigInt(record.uploadedAtMs),
    });

  const statusAt = (record: RecoveryRecord, atMs: number): RecoveryStatus => {
    if (record.status === "cancelled") return RecoveryStatus.CANCELLED;
    if (atMs >= record.expiresAtMs) return RecoveryStatus.EXPIRED;
    if (record.status === "completed") return RecoveryStatus.COMPLETED;
    return atMs >= record.availableAtMs ? RecoveryStatus.AVAILABLE : RecoveryStatus.PENDING;
  };

  const recoveryMessage = async (
    record: RecoveryRecord,
    atMs: number,
  ): Promise<RecoveryRequest> => {
    const backup = await backups.getBackup(record.ownerGuid);
    return create(RecoveryRequestSchema, {
      recoveryId: record.recoveryId,
      status: statusAt(record, atMs),
      requestedAtMs: BigInt(record.requestedAtMs),
      availableAtMs: BigInt(record.availableAtMs),
      expiresAtMs: BigInt(record.expiresAtMs),
      cancelledAtMs: BigInt(record.cancelledAtMs ?? 0),
      completedAtMs: BigInt(record.completedAtMs ?? 0),
      requestingPlatform: record.requestingPlatform,
      ...(backup === undefined ? {} : { backup: info(backup) }),
    });
  };

  const registeredDevice = (member: MemberRecord | undefined): MemberRecord => {
    if (
      member === undefined ||
      member.status !== "active" ||
      member.deviceRevokedAtMs !== undefined
    ) {
      throw new ConnectError(
        "no registered device of an active member matches this request",
        Code.PermissionDenied,
      );
    }
    return member;
  };

  const loadRecovery = async (recoveryId: string): Promise<RecoveryRecord> => {
    const record = await backups.findRecovery(recoveryId);
    if (record === undefined) throw new ConnectError(`no recovery ${recoveryId}`, Code.NotFound);
    return record;
  };

  return {
    async uploadCredentialBackup(request): Promise<UploadCredentialBackupResponse> {
      const ownerGuid = requireUuid("owner_guid", request.ownerGuid);
      const backup = requireBytes("encrypted_backup", request.encryptedBackup, {
        min: 1,
        max: MAX_CREDENTIAL_BACKUP_BYTES,
      });
      const checksum = requireBytes("checksum", request.checksum, { length: 32 });
      if (!equalBytes(checksum, sha256(backup))) {
        throw invalidArgument("checksum is not the SHA-256 of encrypted_backup");
      }
      if (request.backupVersion < 1n || request.backupVersion > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw invalidArgument(`backup_version must be 1 to 2^53-1, got ${request.backupVersion}`);
      }
      const version = Number(request.backupVersion);
      const proof = proofs.checkShape("device_proof", request.deviceProof);

      const member = await members.get(ownerGuid);
      if (member === undefined) {
        throw new ConnectError("no registered device matches this request", Code.PermissionDenied);
      }
      await proofs.verify("device_proof", proof, member.devicePublicKey, {
        purpose: DeviceProofPurpose.BACKUP_UPLOAD,
        subjectId: ownerGuid,
        requestDigest: checksum,
      });
      registeredDevice(member);

      const current = await backups.getBackup(ownerGuid);
      if (current !== undefined && current.backupVersion === version) {
        if (equalBytes(current.checksum, checksum)) {
          return create(UploadCredentialBackupResponseSchema, { backup: info(current) });
        }
      }
      if (current !== undefined && version <= current.backupVersion) {
        throw new ConnectError(
          `backup_version ${version} is not greater than the stored version ${current.backupVersion} (a stale or replayed upload)`,
          Code.Aborted,
        );
      }
      const blobKey = `${ownerGuid}/credential-backup-${version}`;
      const put = await blobs.put(blobKey, backup, { mode: "overwrite" });
      if (put.outcome !== "ok") {
        throw new ConnectError("the backup store refused the write", Code.Unavailable);
      }
      const record = {
        ownerGuid,
        backupVersion: version,
        checksum,
        sizeBytes: backup.byteLength,
        uploadedAtMs: now(),
        blobKey,
        blobVersion: put.version,
      };
      if (!(await backups.putBackup(record))) {
        throw new ConnectError(
          "a newer backup was stored meanwhile (a stale upload)",
          Code.Aborted,
        );
      }
      if (current !== undefined && current.blobKey !== blobKey) {
        await blobs.delete(current.blobKey).catch(() => {});
      }
      logger.info("backup.uploaded", { ownerGuid, version });
      return create(UploadCredentialBackupResponseSchema, { backup: info(record) });
    },

    async requestRecovery(request, context: HandlerContext): Promise<RequestRecoveryResponse> {
      const { ownerGuid } = await options.accounts.authenticate(
        context.requestHeader.get("authorization"),
      );
      const newDevice = requirePresent("new_device", request.newDevice);
      checkDeviceAttestationShape(newDevice, "new_device");
      await options.recoveryLimit?.consume(ownerGuid);
      const device = await devices.verify(newDevice, "new_device");

      const requestedAtMs = now();
      const recoveryId = randomUUID();
      const availableAtMs = requestedAtMs + RECOVERY_DELAY_MS;
      const expiresAtMs = availableAtMs + RECOVERY_DOWNLOAD_WINDOW_MS;
      const slot = await backups.takeRecoverySlot(
        ownerGuid,
        recoveryId,
        expiresAtMs,
        requestedAtMs,
      );
      if (slot === "no_backup") {
        throw new ConnectError("the member has no credential backup", Code.FailedPrecondition);
      }
      if (slot === "taken") {
        throw new ConnectError(
          "another recovery is pending or available: cancel it first",
          Code.AlreadyExists,
        );
      }
      const cancelToken = randomBytes(CANCEL_TOKEN_LENGTH);
      const record: RecoveryRecord = {
        recoveryId,
        ownerGuid,
        status: "pending",
        requestedAtMs,
        availableAtMs,
        expiresAtMs,
        requestingPlatform: device.platform,
        newDevicePublicKey: device.devicePublicKey,
        cancelTokenSha256: sha256(cancelToken),
      };
      await backups.putRecovery(record);
      await options.notifier.recoveryRequested({
        ownerGuid,
        recoveryId,
        cancelToken,
        availableAtMs,
        requestingPlatform: device.platform,
      });
      logger.info("recovery.requested", { ownerGuid, recoveryId });
      return create(RequestRecoveryResponseSchema, {
        recovery: await recoveryMessage(record, requestedAtMs),
        ownerGuid,
      });
    },

    async cancelRecovery(request): Promise<CancelRecoveryResponse> {
      const recoveryId = requireUuid("recovery_id", request.recoveryId);
      const authorization = request.authorization;
      if (authorization.case === "deviceProof") {
        proofs.checkShape("device_proof", authorization.value);
      } else if (authorization.case === "cancelToken") {
        requireBytes("cancel_token", authorization.value, { length: CANCEL_TOKEN_LENGTH });
      } else {
        throw invalidArgument("one of device_proof or cancel_token is required");
      }

      const record = await loadRecovery(recoveryId);
      if (authorization.case === "deviceProof") {
        const member = registeredDevice(await members.get(record.ownerGuid));
        await proofs.verify("device_proof", authorization.value, member.devicePublicKey, {
          purpose: DeviceProofPurpose.RECOVERY_CANCEL,
          subjectId: recoveryId,
          requestDigest: new Uint8Array(),
        });
      } else if (!equalBytes(sha256(authorization.value), record.cancelTokenSha256)) {
        throw new ConnectError(
          "cancel_token is not valid for this recovery",
          Code.PermissionDenied,
        );
      }

      const atMs = now();
      const status = statusAt(record, atMs);
      if (status === RecoveryStatus.COMPLETED || status === RecoveryStatus.EXPIRED) {
        throw new ConnectError(
          `the recovery is ${RecoveryStatus[status]} and can no longer be cancelled`,
          Code.FailedPrecondition,
        );
      }
      if (status !== RecoveryStatus.CANCELLED) {
        if (!(await backups.cancelRecovery(record.ownerGuid, recoveryId, atMs))) {
          const latest = await loadRecovery(recoveryId);
          if (latest.status !== "cancelled") {
            throw new ConnectError(
              "the recovery completed meanwhile and can no longer be cancelled",
              Code.FailedPrecondition,
            );
          }
        }
        await backups.freeRecoverySlot(record.ownerGuid, recoveryId);
        logger.info("recovery.cancelled", { ownerGuid: record.ownerGuid, recoveryId });
      }
      return create(CancelRecoveryResponseSchema, {
        recovery: await recoveryMessage(await loadRecovery(recoveryId), atMs),
      });
    },

    async downloadCredentialBackup(request): Promise<DownloadCredentialBackupResponse> {
      const recoveryId = requireUuid("recovery_id", request.recoveryId);
      const proof = proofs.checkShape("device_proof", request.deviceProof);

      const record = await loadRecovery(recoveryId);
      await proofs.verify("device_proof", proof, record.newDevicePublicKey, {
        purpose: DeviceProofPurpose.RECOVERY_DOWNLOAD,
        subjectId: recoveryId,
        requestDigest: new Uint8Array(),
      });
      const atMs = now();
      const status = statusAt(record, atMs);
      if (status === RecoveryStatus.CANCELLED || status === RecoveryStatus.EXPIRED) {
        throw new ConnectError(
          `the recovery is ${RecoveryStatus[status]}`,
          Code.FailedPrecondition,
        );
      }
      if (status === RecoveryStatus.PENDING) {
        throw new ConnectError(
          `the recovery is not available before ${new Date(record.availableAtMs).toISOString()}`,
          Code.FailedPrecondition,
        );
      }
      const backup = await backups.getBackup(record.ownerGuid);
      if (backup === undefined) {
        throw new ConnectError("the member's backup is gone", Code.FailedPrecondition);
      }
      const stored = await blobs.get(backup.blobKey);
      if (stored.outcome !== "ok" || !equalBytes(sha256(stored.data), backup.checksum)) {
        logger.error("backup.unreadable", { ownerGuid: record.ownerGuid, key: backup.blobKey });
        throw new ConnectError("the stored backup could not be read intact", Code.DataLoss);
      }

      if (record.status !== "completed") {
        const member = await members.get(record.ownerGuid);
        if (member === undefined)
          throw new ConnectError("the member is gone", Code.FailedPrecondition);
        if (!equalBytes(member.devicePublicKey, record.newDevicePublicKey)) {
          const moved = await members.replaceDevice(
            record.ownerGuid,
            member.devicePublicKey,
            { publicKey: record.newDevicePublicKey, platform: record.requestingPlatform },
            atMs,
          );
          if (!moved) {
            throw new ConnectError("the member's device changed meanwhile; retry", Code.Aborted);
          }
        }
        if (!(await backups.completeRecovery(record.ownerGuid, recoveryId, atMs))) {
          throw new ConnectError("the recovery was cancelled", Code.FailedPrecondition);
        }
        await backups.freeRecoverySlot(record.ownerGuid, recoveryId);
        logger.info("recovery.completed", { ownerGuid: record.ownerGuid, recoveryId });
      }
      return create(DownloadCredentialBackupResponseSchema, {
        encryptedBackup: stored.data,
        backup: info(backup),
        recovery: await recoveryMessage(await loadRecovery(recoveryId), atMs),
      });
    },
  };
}
