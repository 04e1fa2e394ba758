import { getS, n, s } from "./attribute-values.js";
import { type DynamoContext, TableAccess } from "./table-access.js";

/** The stored JWT of a NATS account. */
export interface StoredAccountJwt {
  readonly jwt: string;
  /** The JWT's `jti`: what a replacement is conditioned on. */
  readonly jwtId: string;
}

/** The NATS accounts table (`TABLES.natsAccounts`): the account JWT in force. */
export interface NatsAccountsTable {
  get(accountPublicKey: string): Promise<StoredAccountJwt | undefined>;
  /**
   * Stores `next` if the stored JWT is still `expectedJwtId` (or none is stored when it is
   * undefined), so concurrent revocations never overwrite each other. False when it changed.
   */
  replace(
    accountPublicKey: string,
    next: StoredAccountJwt,
    expectedJwtId: string | undefined,
    nowMs: number,
  ): Promise<boolean>;
}

/** The NATS accounts table of `context`. */
export function createNatsAccountsTable(context: DynamoContext): NatsAccountsTable {
  const table = new TableAccess(context, "natsAccounts");
  return {
    async get(accountPublicKey) {
      const item = await table.get({ account_public_key: s(accountPublicKey) });
      if (item === undefined) return undefined;
      return { jwt: getS(item, "jwt"), jwtId: getS(item, "jwt_id") };
    },
    async replace(accountPublicKey, next, expectedJwtId, nowMs) {
      return await table.put(
        {
          account_public_key: s(accountPublicKey),
          jwt: s(next.jwt),
          jwt_id: s(next.jwtId),
          updated_at_ms: n(nowMs),
        },
        expectedJwtId === undefined
          ? { expression: "attribute_not_exists(account_public_key)" }
          : { expression: "jwt_id = :expected", values: { ":expected": s(expectedJwtId) } },
      );
    },
  };
}
