import type { HandlerContext } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { subjectValuesKey } from "../../../rpc/server/index.js";
import type { Vault } from "../vault.js";
import type { VaultDatabase } from "../vault-database.js";

/**
 * What the vault services need from the supervisor: the member's vault (loaded on first use,
 * one operation at a time), the clock and the enclave's attestation.
 */
export interface VaultAccess {
  /**
   * Runs `operation` on the member's vault, loading it first (cold start) if it is not in memory.
   *
   * @throws ConnectError `not_found` when the member has no vault, `data_loss` when its stored
   *   record is refused (rolled back or tampered).
   */
  use<T>(ownerGuid: string, operation: (vault: Vault) => Promise<T>): Promise<T>;
  /** Creates a vault; `already_exists` when there is one. */
  create(ownerGuid: string, init: (db: VaultDatabase) => Promise<void>): Promise<Vault>;
  /**
   * Called after the member's vault was unlocked (or its PIN first set), inside that operation:
   * work it starts (fetching the subscription statement, re-queueing votes) must run afterwards,
   * never awaited here.
   */
  unlocked?(ownerGuid: string): void;
  /** Called when a PIN attempt is refused because of a lockout (the `PINRateLimited` metric). */
  pinRateLimited(ownerGuid: string): void;
  /** Clock, ms since epoch. */
  now(): number;
  /** Version of this vault-manager build. */
  readonly vaultVersion: string;
  /** A fresh attestation document with `nonce`, carrying the enclave's sealing key. */
  attest(nonce: Uint8Array): Promise<Uint8Array>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The member a call is for: the `{owner_guid}` of the subject it arrived on. */
export function ownerGuidOf(context: HandlerContext): string {
  const guid = context.values.get(subjectValuesKey).owner_guid;
  return requireGuid(guid, "owner_guid");
}

/** Checks a lowercase UUID. */
export function requireGuid(value: string | undefined, field: string): string {
  if (value === undefined || !GUID.test(value)) {
    throw new ConnectError(`${field} must be a lowercase UUID`, Code.InvalidArgument);
  }
  return value;
}
