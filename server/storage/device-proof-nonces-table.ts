import { n, s, ttlSeconds } from "./attribute-values.js";
import { type DynamoContext, TableAccess } from "./table-access.js";

/** The device proof nonces table (`TABLES.deviceProofNonces`). */
export interface DeviceProofNoncesTable {
  /**
   * Remembers a nonce until `expiresAtMs`; false when it is already remembered (a replay).
   * An entry past its expiry that TTL has not removed yet counts as forgotten.
   */
  remember(nonceId: string, expiresAtMs: number, nowMs: number): Promise<boolean>;
}

/** The device proof nonces table of `context`. */
export function createDeviceProofNoncesTable(context: DynamoContext): DeviceProofNoncesTable {
  const table = new TableAccess(context, "deviceProofNonces");
  return {
    async remember(nonceId, expiresAtMs, nowMs) {
      return await table.put(
        {
          nonce_id: s(nonceId),
          expires_at_ms: n(expiresAtMs),
          expires_at_s: n(ttlSeconds(expiresAtMs)),
        },
        {
          expression: "attribute_not_exists(nonce_id) OR expires_at_ms <= :now",
          values: { ":now": n(nowMs) },
        },
      );
    },
  };
}
