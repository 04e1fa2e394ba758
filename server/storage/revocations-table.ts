import { getN, getS, n, optS, s, ttlSeconds } from "./attribute-values.js";
import { type DynamoContext, TableAccess } from "./table-access.js";

/** A revoked NATS user key. */
export interface RevocationRecord {
  /** The revoked public user nkey (`U…`). */
  readonly userPublicKey: string;
  readonly ownerGuid: string;
  /** JWTs for the key issued at or before this time (ms) are revoked. */
  readonly revokedAtMs: number;
  /** The `RevocationReason` name. */
  readonly reason: string;
  /** The control command that asked for it, when one did. */
  readonly commandId?: string;
  /** When the entry may lapse: once every JWT it revokes has expired. */
  readonly expiresAtMs: number;
}

/** The revocations table (`TABLES.revocations`): keys a refresh must refuse. */
export interface RevocationsTable {
  put(record: RevocationRecord): Promise<void>;
  get(userPublicKey: string): Promise<RevocationRecord | undefined>;
}

/** The revocations table of `context`. */
export function createRevocationsTable(context: DynamoContext): RevocationsTable {
  const table = new TableAccess(context, "revocations");
  return {
    async put(record) {
      await table.put({
        user_public_key: s(record.userPublicKey),
        owner_guid: s(record.ownerGuid),
        revoked_at_ms: n(record.revokedAtMs),
        reason: s(record.reason),
        ...(record.commandId === undefined ? {} : { command_id: s(record.commandId) }),
        expires_at_ms: n(record.expiresAtMs),
        expires_at_s: n(ttlSeconds(record.expiresAtMs)),
      });
    },
    async get(userPublicKey) {
      const item = await table.get({ user_public_key: s(userPublicKey) });
      if (item === undefined) return undefined;
      const commandId = optS(item, "command_id");
      return {
        userPublicKey,
        ownerGuid: getS(item, "owner_guid"),
        revokedAtMs: getN(item, "revoked_at_ms"),
        reason: getS(item, "reason"),
        expiresAtMs: getN(item, "expires_at_ms"),
        ...(commandId === undefined ? {} : { commandId }),
      };
    },
  };
}
