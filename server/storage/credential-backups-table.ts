import { b, getB, getN, getS, type Item, n, optN, optS, s } from "./attribute-values.js";
import { type DynamoContext, TableAccess } from "./table-access.js";

/** Sort key of a member's current backup item. */
const BACKUP_ITEM = "backup";
/** Sort key prefix of recovery request items. */
const RECOVERY_PREFIX = "recovery#";
/** The index that finds a recovery by its id alone (`TABLES.credentialBackups`). */
const RECOVERY_INDEX = "recovery-index";

/** The member's current credential backup: metadata here, the bytes in the blob store. */
export interface CredentialBackupRecord {
  readonly ownerGuid: string;
  readonly backupVersion: number;
  readonly checksum: Uint8Array;
  readonly sizeBytes: number;
  readonly uploadedAtMs: number;
  /** Where the encrypted bytes are, and their version there. */
  readonly blobKey: string;
  readonly blobVersion: string;
  /** The recovery that holds the member's one recovery slot, if any, and until when. */
  readonly activeRecoveryId?: string;
  readonly activeRecoveryExpiresAtMs?: number;
}

/** Stored status of a recovery; AVAILABLE and EXPIRED are derived from the times. */
export type StoredRecoveryStatus = "pending" | "cancelled" | "completed";

/** A recovery request as stored. */
export interface RecoveryRecord {
  readonly recoveryId: string;
  readonly ownerGuid: string;
  readonly status: StoredRecoveryStatus;
  readonly requestedAtMs: number;
  readonly availableAtMs: number;
  readonly expiresAtMs: number;
  readonly cancelledAtMs?: number;
  readonly completedAtMs?: number;
  /** `DeviceAttestationPlatform` of the requesting device. */
  readonly requestingPlatform: number;
  /** The new device's attested key: only it may download; it becomes the registered key. */
  readonly newDevicePublicKey: Uint8Array;
  /** SHA-256 of the cancel token sent in the notification (the token itself is never stored). */
  readonly cancelTokenSha256: Uint8Array;
}

/** The credential backups table (`TABLES.credentialBackups`). */
export interface CredentialBackupsTable {
  getBackup(ownerGuid: string): Promise<CredentialBackupRecord | undefined>;
  /**
   * Stores new backup metadata if `backupVersion` is greater than the stored one (or none is
   * stored); keeps the recovery slot. False when the stored version is not lower.
   */
  putBackup(
    record: Omit<CredentialBackupRecord, "activeRecoveryId" | "activeRecoveryExpiresAtMs">,
  ): Promise<boolean>;
  /**
   * Takes the member's recovery slot for `recoveryId` if it is free (or held by a recovery that
   * expired by `nowMs`) and a backup exists. `no_backup`, `taken` or `ok`.
   */
  takeRecoverySlot(
    ownerGuid: string,
    recoveryId: string,
    expiresAtMs: number,
    nowMs: number,
  ): Promise<"ok" | "no_backup" | "taken">;
  /** Frees the slot if `recoveryId` holds it. */
  freeRecoverySlot(ownerGuid: string, recoveryId: string): Promise<void>;
  putRecovery(record: RecoveryRecord): Promise<void>;
  /** Finds a recovery by id (index read), then reads it consistently. */
  findRecovery(recoveryId: string): Promise<RecoveryRecord | undefined>;
  /** `pending` → `cancelled`; false when it is not pending any more. */
  cancelRecovery(ownerGuid: string, recoveryId: string, nowMs: number): Promise<boolean>;
  /** `pending` → `completed` (or already completed); false when it was cancelled. */
  completeRecovery(ownerGuid: string, recoveryId: string, nowMs: number): Promise<boolean>;
}

/** The credential backups table of `context`. */
export function createCredentialBackupsTable(context: DynamoContext): CredentialBackupsTable {
  const table = new TableAccess(context, "credentialBackups");
  const backupKey = (ownerGuid: string): Item => ({
    owner_guid: s(ownerGuid),
    backup_id: s(BACKUP_ITEM),
  });
  const recoveryKey = (ownerGuid: string, recoveryId: string): Item => ({
    owner_guid: s(ownerGuid),
    backup_id: s(`${RECOVERY_PREFIX}${recoveryId}`),
  });
  const readRecovery = (item: Item): RecoveryRecord => {
    const status = getS(item, "status");
    const cancelledAtMs = optN(item, "cancelled_at_ms");
    const completedAtMs = optN(item, "completed_at_ms");
    return {
      recoveryId: getS(item, "recovery_id"),
      ownerGuid: getS(item, "owner_guid"),
      status: status === "cancelled" || status === "completed" ? status : "pending",
      requestedAtMs: getN(item, "requested_at_ms"),
      availableAtMs: getN(item, "available_at_ms"),
      expiresAtMs: getN(item, "expires_at_ms"),
      requestingPlatform: getN(item, "requesting_platform"),
      newDevicePublicKey: getB(item, "new_device_public_key"),
      cancelTokenSha256: getB(item, "cancel_token_sha256"),
      ...(cancelledAtMs === undefined ? {} : { cancelledAtMs }),
      ...(completedAtMs === undefined ? {} : { completedAtMs }),
    };
  };
  async function getBackup(ownerGuid: string): Promise<CredentialBackupRecord | undefined> {
    const item = await table.get(backupKey(ownerGuid));
    if (item === undefined || item.backup_version === undefined) return undefined;
    const activeRecoveryId = optS(item, "active_recovery_id");
    const activeRecoveryExpiresAtMs = optN(item, "active_recovery_expires_at_ms");
    return {
      ownerGuid,
      backupVersion: getN(item, "backup_version"),
      checksum: getB(item, "checksum"),
      sizeBytes: getN(item, "size_bytes"),
      uploadedAtMs: getN(item, "uploaded_at_ms"),
      blobKey: getS(item, "blob_key"),
      blobVersion: getS(item, "blob_version"),
      ...(activeRecoveryId === undefined ? {} : { activeRecoveryId }),
      ...(activeRecoveryExpiresAtMs === undefined ? {} : { activeRecoveryExpiresAtMs }),
    };
  }
  return {
    getBackup,
    async putBackup(record) {
      const updated = await table.update(
        backupKey(record.ownerGuid),
        {
          expression:
            "SET backup_version = :v, checksum = :checksum, size_bytes = :size, uploaded_at_ms = :at, blob_key = :blob_key, blob_version = :blob_version",
          values: {
            ":v": n(record.backupVersion),
            ":checksum": b(record.checksum),
            ":size": n(record.sizeBytes),
            ":at": n(record.uploadedAtMs),
            ":blob_key": s(record.blobKey),
            ":blob_version": s(record.blobVersion),
          },
        },
        { expression: "attribute_not_exists(backup_version) OR backup_version < :v" },
      );
      return updated !== undefined;
    },
    async takeRecoverySlot(ownerGuid, recoveryId, expiresAtMs, nowMs) {
      const updated = await table.update(
        backupKey(ownerGuid),
        {
          expression: "SET active_recovery_id = :id, active_recovery_expires_at_ms = :expires",
          values: { ":id": s(recoveryId), ":expires": n(expiresAtMs) },
        },
        {
          expression:
            "attribute_exists(backup_version) AND (attribute_not_exists(active_recovery_id) OR active_recovery_expires_at_ms <= :now)",
          values: { ":now": n(nowMs) },
        },
      );
      if (updated !== undefined) return "ok";
      const backup = await getBackup(ownerGuid);
      return backup === undefined ? "no_backup" : "taken";
    },
    async freeRecoverySlot(ownerGuid, recoveryId) {
      await table.update(
        backupKey(ownerGuid),
        { expression: "REMOVE active_recovery_id, active_recovery_expires_at_ms" },
        { expression: "active_recovery_id = :id", values: { ":id": s(recoveryId) } },
      );
    },
    async putRecovery(record) {
      await table.put({
        ...recoveryKey(record.ownerGuid, record.recoveryId),
        recovery_id: s(record.recoveryId),
        status: s(record.status),
        requested_at_ms: n(record.requestedAtMs),
        available_at_ms: n(record.availableAtMs),
        expires_at_ms: n(record.expiresAtMs),
        requesting_platform: n(record.requestingPlatform),
        new_device_public_key: b(record.newDevicePublicKey),
        cancel_token_sha256: b(record.cancelTokenSha256),
      });
    },
    async findRecovery(recoveryId) {
      const found = await table.query(
        { expression: "recovery_id = :id", values: { ":id": s(recoveryId) } },
        { index: RECOVERY_INDEX, limit: 1 },
      );
      const owner = found[0] === undefined ? undefined : optS(found[0], "owner_guid");
      if (owner === undefined) return undefined;
      const item = await table.get(recoveryKey(owner, recoveryId));
      return item === undefined ? undefined : readRecovery(item);
    },
    async cancelRecovery(ownerGuid, recoveryId, nowMs) {
      const updated = await table.update(
        recoveryKey(ownerGuid, recoveryId),
        {
          expression: "SET #status = :cancelled, cancelled_at_ms = :now",
          names: { "#status": "status" },
          values: { ":cancelled": s("cancelled"), ":now": n(nowMs) },
        },
        { expression: "#status = :pending", values: { ":pending": s("pending") } },
      );
      return updated !== undefined;
    },
    async completeRecovery(ownerGuid, recoveryId, nowMs) {
      const updated = await table.update(
        recoveryKey(ownerGuid, recoveryId),
        {
          expression:
            "SET #status = :completed, completed_at_ms = if_not_exists(completed_at_ms, :now)",
          names: { "#status": "status" },
          values: { ":completed": s("completed"), ":now": n(nowMs) },
        },
        {
          expression: "#status IN (:pending, :completed)",
          values: { ":pending": s("pending") },
        },
      );
      return updated !== undefined;
    },
  };
}
