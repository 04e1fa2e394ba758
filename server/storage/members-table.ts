import { b, getB, getN, getS, type Item, n, optN, optS, s } from "./attribute-values.js";
import { type DynamoContext, TableAccess } from "./table-access.js";

/** `active`, or `suspended` (account closed or a policy action): no new NATS credentials. */
export type MemberStatus = "active" | "suspended";

/** A member as the backend knows it: status and device binding, never vault data. */
export interface MemberRecord {
  readonly ownerGuid: string;
  readonly status: MemberStatus;
  readonly enrolledAtMs: number;
  /** The enrollment session that created the member. */
  readonly enrollmentSessionId: string;
  /** The registered device key (65-byte SEC1 point): the only key whose proofs are accepted. */
  readonly devicePublicKey: Uint8Array;
  /** `DeviceAttestationPlatform` value of the registered device. */
  readonly devicePlatform: number;
  readonly deviceRegisteredAtMs: number;
  /** Set when the registered device key was revoked (device lost); cleared by a recovery. */
  readonly deviceRevokedAtMs?: number;
  /** The member's identity Ed25519 public key (32 bytes), from the enclave at enrollment. */
  readonly identityPublicKey: Uint8Array;
  /** Why the member is suspended (a `RevocationReason` name), when it is. */
  readonly suspendedReason?: string;
}

/** The members table (`TABLES.members`). */
export interface MembersTable {
  /**
   * Stores a new member. `created` when it was written, `same` when it exists from this very
   * enrollment session (a retry), `conflict` when another session made it.
   */
  create(
    record: Omit<MemberRecord, "status" | "deviceRevokedAtMs" | "suspendedReason">,
  ): Promise<"created" | "same" | "conflict">;
  get(ownerGuid: string): Promise<MemberRecord | undefined>;
  /**
   * Registers a new device key in place of `previousKey` (credential recovery); false when the
   * registered key changed meanwhile. Clears a device revocation.
   */
  replaceDevice(
    ownerGuid: string,
    previousKey: Uint8Array,
    device: { readonly publicKey: Uint8Array; readonly platform: number },
    nowMs: number,
  ): Promise<boolean>;
  /** Marks the registered device key revoked (it can no longer obtain credentials). */
  revokeDevice(ownerGuid: string, nowMs: number): Promise<void>;
  /** Suspends the member with a reason. */
  suspend(ownerGuid: string, reason: string, nowMs: number): Promise<void>;
  /** Members whose status is active (a full-table count: for proposal closing, not hot paths). */
  countActive(): Promise<number>;
}

/** The members table of `context`. */
export function createMembersTable(context: DynamoContext): MembersTable {
  const table = new TableAccess(context, "members");
  const key = (ownerGuid: string): Item => ({ owner_guid: s(ownerGuid) });
  async function get(ownerGuid: string): Promise<MemberRecord | undefined> {
    const item = await table.get(key(ownerGuid));
    if (item === undefined) return undefined;
    const deviceRevokedAtMs = optN(item, "device_revoked_at_ms");
    const suspendedReason = optS(item, "suspended_reason");
    return {
      ownerGuid,
      status: getS(item, "status") === "active" ? "active" : "suspended",
      enrolledAtMs: getN(item, "enrolled_at_ms"),
      enrollmentSessionId: getS(item, "enrollment_session_id"),
      devicePublicKey: getB(item, "device_public_key"),
      devicePlatform: getN(item, "device_platform"),
      deviceRegisteredAtMs: getN(item, "device_registered_at_ms"),
      identityPublicKey: getB(item, "identity_public_key"),
      ...(deviceRevokedAtMs === undefined ? {} : { deviceRevokedAtMs }),
      ...(suspendedReason === undefined ? {} : { suspendedReason }),
    };
  }
  return {
    async create(record) {
      const written = await table.put(
        {
          ...key(record.ownerGuid),
          status: s("active"),
          enrolled_at_ms: n(record.enrolledAtMs),
          enrollment_session_id: s(record.enrollmentSessionId),
          device_public_key: b(record.devicePublicKey),
          device_platform: n(record.devicePlatform),
          device_registered_at_ms: n(record.deviceRegisteredAtMs),
          identity_public_key: b(record.identityPublicKey),
        },
        { expression: "attribute_not_exists(owner_guid)" },
      );
      if (written) return "created";
      const existing = await get(record.ownerGuid);
      return existing?.enrollmentSessionId === record.enrollmentSessionId ? "same" : "conflict";
    },
    get,
    async replaceDevice(ownerGuid, previousKey, device, nowMs) {
      const updated = await table.update(
        key(ownerGuid),
        {
          expression:
            "SET device_public_key = :key, device_platform = :platform, device_registered_at_ms = :now REMOVE device_revoked_at_ms",
          values: {
            ":key": b(device.publicKey),
            ":platform": n(device.platform),
            ":now": n(nowMs),
          },
        },
        { expression: "device_public_key = :previous", values: { ":previous": b(previousKey) } },
      );
      return updated !== undefined;
    },
    async revokeDevice(ownerGuid, nowMs) {
      await table.update(
        key(ownerGuid),
        {
          expression: "SET device_revoked_at_ms = if_not_exists(device_revoked_at_ms, :now)",
          values: { ":now": n(nowMs) },
        },
        { expression: "attribute_exists(owner_guid)" },
      );
    },
    countActive: () =>
      table.count({
        expression: "#status = :active",
        names: { "#status": "status" },
        values: { ":active": s("active") },
      }),
    async suspend(ownerGuid, reason, nowMs) {
      await table.update(
        key(ownerGuid),
        {
          expression:
            "SET #status = :suspended, suspended_reason = :reason, suspended_at_ms = :now",
          names: { "#status": "status" },
          values: { ":suspended": s("suspended"), ":reason": s(reason), ":now": n(nowMs) },
        },
        { expression: "attribute_exists(owner_guid)" },
      );
    },
  };
}
