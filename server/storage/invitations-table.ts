import { getN, getS, type Item, n, optN, optS, s, ttlSeconds } from "./attribute-values.js";
import { type DynamoContext, TableAccess } from "./table-access.js";

/** An invitation as stored: only the hash of its code, never the code. */
export interface InvitationRecord {
  /** Hex SHA-256 of the normalised code (`invitation-code.ts`). */
  readonly codeHash: string;
  readonly status: "open" | "used";
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  /** The enrollment session that used it (status `used`). */
  readonly usedBySession?: string;
  readonly usedAtMs?: number;
}

/** The invitations table (`TABLES.invitations`). */
export interface InvitationsTable {
  /** Stores a new open invitation; false when one with that hash exists. */
  create(record: {
    readonly codeHash: string;
    readonly createdAtMs: number;
    readonly expiresAtMs: number;
  }): Promise<boolean>;
  get(codeHash: string): Promise<InvitationRecord | undefined>;
  /**
   * Marks the invitation used by `sessionId`, if it is open and unexpired at `nowMs` or already
   * used by this very session (a retry). False when it is used by another session, expired or gone.
   */
  consume(codeHash: string, sessionId: string, nowMs: number): Promise<boolean>;
}

/** The invitations table of `context`. */
export function createInvitationsTable(context: DynamoContext): InvitationsTable {
  const table = new TableAccess(context, "invitations");
  const key = (codeHash: string): Item => ({ code_hash: s(codeHash) });
  return {
    async create(record) {
      return await table.put(
        {
          ...key(record.codeHash),
          status: s("open"),
          created_at_ms: n(record.createdAtMs),
          expires_at_ms: n(record.expiresAtMs),
          expires_at_s: n(ttlSeconds(record.expiresAtMs)),
        },
        { expression: "attribute_not_exists(code_hash)" },
      );
    },
    async get(codeHash) {
      const item = await table.get(key(codeHash));
      if (item === undefined) return undefined;
      const status = getS(item, "status");
      const usedBySession = optS(item, "used_by_session");
      const usedAtMs = optN(item, "used_at_ms");
      return {
        codeHash,
        status: status === "used" ? "used" : "open",
        createdAtMs: getN(item, "created_at_ms"),
        expiresAtMs: getN(item, "expires_at_ms"),
        ...(usedBySession === undefined ? {} : { usedBySession }),
        ...(usedAtMs === undefined ? {} : { usedAtMs }),
      };
    },
    async consume(codeHash, sessionId, nowMs) {
      const updated = await table.update(
        key(codeHash),
        {
          expression:
            "SET #status = :used, used_by_session = :session, used_at_ms = if_not_exists(used_at_ms, :now)",
          names: { "#status": "status" },
          values: { ":used": s("used"), ":session": s(sessionId), ":now": n(nowMs) },
        },
        {
          expression:
            "(#status = :open AND expires_at_ms > :now) OR (#status = :used AND used_by_session = :session)",
          values: { ":open": s("open") },
        },
      );
      return updated !== undefined;
    },
  };
}
