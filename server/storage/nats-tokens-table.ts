import { getN, getS, type Item, n, s, ttlSeconds } from "./attribute-values.js";
import { type DynamoContext, TableAccess } from "./table-access.js";

/**
 * Most tokens listed for one member when revoking: a member is issued about one a day and each
 * row lapses with its JWT, so a live member has a few dozen at most; the bound keeps a revocation
 * from becoming an unbounded read.
 */
export const MAX_TOKENS_LISTED = 1_000;

/** A member NATS user JWT the backend issued. */
export interface NatsTokenRecord {
  readonly ownerGuid: string;
  /** The JWT's `jti`. */
  readonly jwtId: string;
  /** The device's public user nkey the JWT is for: what NATS revokes by. */
  readonly userNkeyPublic: string;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
  /** Which call issued it: `bootstrap` (enrollment) or `refresh`. */
  readonly issuedBy: string;
}

/** The NATS tokens table (`TABLES.natsTokens`). */
export interface NatsTokensTable {
  record(token: NatsTokenRecord): Promise<void>;
  /** The member's tokens still stored (expired ones lapse by TTL), at most {@link MAX_TOKENS_LISTED}. */
  list(ownerGuid: string): Promise<NatsTokenRecord[]>;
}

/** The NATS tokens table of `context`. */
export function createNatsTokensTable(context: DynamoContext): NatsTokensTable {
  const table = new TableAccess(context, "natsTokens");
  return {
    async record(token) {
      await table.put({
        owner_guid: s(token.ownerGuid),
        jwt_id: s(token.jwtId),
        user_nkey_public: s(token.userNkeyPublic),
        issued_at_ms: n(token.issuedAtMs),
        expires_at_ms: n(token.expiresAtMs),
        expires_at_s: n(ttlSeconds(token.expiresAtMs)),
        issued_by: s(token.issuedBy),
      });
    },
    async list(ownerGuid) {
      const items = await table.query(
        { expression: "owner_guid = :guid", values: { ":guid": s(ownerGuid) } },
        { limit: MAX_TOKENS_LISTED },
      );
      return items.map((item: Item) => ({
        ownerGuid,
        jwtId: getS(item, "jwt_id"),
        userNkeyPublic: getS(item, "user_nkey_public"),
        issuedAtMs: getN(item, "issued_at_ms"),
        expiresAtMs: getN(item, "expires_at_ms"),
        issuedBy: getS(item, "issued_by"),
      }));
    },
  };
}
