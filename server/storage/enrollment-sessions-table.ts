import { equalBytes } from "@noble/curves/utils.js";
import {
  b,
  getB,
  getN,
  getS,
  type Item,
  n,
  optB,
  optN,
  s,
  ttlSeconds,
} from "./attribute-values.js";
import { type DynamoContext, TableAccess } from "./table-access.js";

/**
 * Where a session stands: `started` (EnrollStart done), `finalizing` (an EnrollFinalize with
 * the recorded material is under way), `finalized` (the vault and credential exist).
 */
export type EnrollmentSessionState = "started" | "finalizing" | "finalized";

/** An enrollment session as stored. */
export interface EnrollmentSessionRecord {
  readonly sessionId: string;
  readonly state: EnrollmentSessionState;
  /** Hash of the invitation code the session was opened with. */
  readonly invitationHash: string;
  /** The member guid assigned at start; the vault is created under it. */
  readonly ownerGuid: string;
  /** The attested device key (65-byte SEC1 point): only it can finish the session. */
  readonly devicePublicKey: Uint8Array;
  /** `DeviceAttestationPlatform` value of the device attestation. */
  readonly devicePlatform: number;
  /** SHA-256 of the platform attestation token the session was bound with. */
  readonly deviceAttestationSha256: Uint8Array;
  /** The nonce the enclave's attestation document carries. */
  readonly attestationNonce: Uint8Array;
  /** The enclave key the document attested (what the app seals its material to). */
  readonly enclaveSealingKey: Uint8Array;
  readonly enclaveId: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  /** SHA-256 of the sealed material of the finalize under way or done. */
  readonly materialSha256?: Uint8Array;
  readonly finalizedAtMs?: number;
}

/** What {@link EnrollmentSessionsTable.create} stores. */
export type NewEnrollmentSession = Omit<
  EnrollmentSessionRecord,
  "state" | "materialSha256" | "finalizedAtMs"
>;

/** The enrollment sessions table (`TABLES.enrollmentSessions`). */
export interface EnrollmentSessionsTable {
  /** Stores a new session in state `started`; false when the id exists (never reused). */
  create(session: NewEnrollmentSession): Promise<boolean>;
  get(sessionId: string): Promise<EnrollmentSessionRecord | undefined>;
  /**
   * Claims the session for a finalize with this material: `started` → `finalizing`, or already
   * `finalizing`/`finalized` with the same material (a retry). False when another material holds
   * it or it expired at `nowMs`.
   */
  claim(sessionId: string, materialSha256: Uint8Array, nowMs: number): Promise<boolean>;
  /** Gives a claim back after the enclave refused or failed: `finalizing` → `started`. */
  release(sessionId: string, materialSha256: Uint8Array): Promise<void>;
  /** `finalizing` with this material → `finalized`; false when the session is not in that state. */
  finalize(sessionId: string, materialSha256: Uint8Array, nowMs: number): Promise<boolean>;
}

/** The enrollment sessions table of `context`. */
export function createEnrollmentSessionsTable(context: DynamoContext): EnrollmentSessionsTable {
  const table = new TableAccess(context, "enrollmentSessions");
  const key = (sessionId: string): Item => ({ session_id: s(sessionId) });
  async function get(sessionId: string): Promise<EnrollmentSessionRecord | undefined> {
    const item = await table.get(key(sessionId));
    if (item === undefined) return undefined;
    const state = getS(item, "state");
    const materialSha256 = optB(item, "material_sha256");
    const finalizedAtMs = optN(item, "finalized_at_ms");
    return {
      sessionId,
      state: state === "finalized" || state === "finalizing" ? state : "started",
      invitationHash: getS(item, "invitation_hash"),
      ownerGuid: getS(item, "owner_guid"),
      devicePublicKey: getB(item, "device_public_key"),
      devicePlatform: getN(item, "device_platform"),
      deviceAttestationSha256: getB(item, "device_attestation_sha256"),
      attestationNonce: getB(item, "attestation_nonce"),
      enclaveSealingKey: getB(item, "enclave_sealing_key"),
      enclaveId: getS(item, "enclave_id"),
      createdAtMs: getN(item, "created_at_ms"),
      expiresAtMs: getN(item, "expires_at_ms"),
      ...(materialSha256 === undefined ? {} : { materialSha256 }),
      ...(finalizedAtMs === undefined ? {} : { finalizedAtMs }),
    };
  }
  return {
    async create(session) {
      return await table.put(
        {
          ...key(session.sessionId),
          state: s("started"),
          invitation_hash: s(session.invitationHash),
          owner_guid: s(session.ownerGuid),
          device_public_key: b(session.devicePublicKey),
          device_platform: n(session.devicePlatform),
          device_attestation_sha256: b(session.deviceAttestationSha256),
          attestation_nonce: b(session.attestationNonce),
          enclave_sealing_key: b(session.enclaveSealingKey),
          enclave_id: s(session.enclaveId),
          created_at_ms: n(session.createdAtMs),
          expires_at_ms: n(session.expiresAtMs),
          expires_at_s: n(ttlSeconds(session.expiresAtMs)),
        },
        { expression: "attribute_not_exists(session_id)" },
      );
    },
    get,
    async claim(sessionId, materialSha256, nowMs) {
      const claimed = await table.update(
        key(sessionId),
        {
          expression: "SET #state = :finalizing, material_sha256 = :m",
          names: { "#state": "state" },
          values: { ":finalizing": s("finalizing"), ":m": b(materialSha256) },
        },
        {
          expression: "#state = :started AND expires_at_ms > :now",
          values: { ":started": s("started"), ":now": n(nowMs) },
        },
      );
      if (claimed !== undefined) return true;
      // Not `started`: a retry holds it only with the very same material (set once per claim).
      const current = await get(sessionId);
      return (
        current !== undefined &&
        current.state !== "started" &&
        current.expiresAtMs > nowMs &&
        current.materialSha256 !== undefined &&
        equalBytes(current.materialSha256, materialSha256)
      );
    },
    async release(sessionId, materialSha256) {
      await table.update(
        key(sessionId),
        {
          expression: "SET #state = :started REMOVE material_sha256",
          names: { "#state": "state" },
          values: { ":started": s("started") },
        },
        {
          expression: "#state = :finalizing AND material_sha256 = :m",
          values: { ":finalizing": s("finalizing"), ":m": b(materialSha256) },
        },
      );
    },
    async finalize(sessionId, materialSha256, nowMs) {
      const updated = await table.update(
        key(sessionId),
        {
          expression:
            "SET #state = :finalized, finalized_at_ms = if_not_exists(finalized_at_ms, :now)",
          names: { "#state": "state" },
          values: { ":finalized": s("finalized"), ":now": n(nowMs) },
        },
        {
          expression: "#state IN (:finalizing, :finalized) AND material_sha256 = :m",
          values: { ":finalizing": s("finalizing"), ":m": b(materialSha256) },
        },
      );
      return updated !== undefined;
    },
  };
}
