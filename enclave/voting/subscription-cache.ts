import { toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { type TrustedKeys, verifySubscriptionStatement } from "../../clients/sdk/voting/index.js";
import {
  type SubscriptionStatement,
  SubscriptionStatementSchema,
} from "../../gen/vettid/voting/v1/subscription_pb.js";

/**
 * How often the vault fetches a fresh subscription statement besides every unlock: about every
 * 12 hours (subscription.proto). Statements are valid up to 72 hours, so a vault that stays
 * unlocked keeps a valid one through two missed fetches.
 */
export const SUBSCRIPTION_REFRESH_INTERVAL_MS = 12 * 3_600_000;

/**
 * Spread of the refresh time, each side of the interval: one hour, so fetches from a vault do not
 * fall at a fixed phase that could line up with anything the member does.
 */
export const SUBSCRIPTION_REFRESH_JITTER_MS = 3_600_000;

/**
 * What the vault keeps of its member's latest verified statement (in the vault database). Held
 * as the statement bytes, so CastVote re-verifies exactly what the backend signed.
 */
export interface CachedSubscription {
  /** The serialised SubscriptionStatement. */
  readonly statement: Uint8Array;
  /** Its valid_until_ms, for display and expiry without decoding. */
  readonly validUntilMs: number;
  /** When the vault fetched it, ms since the epoch (drives the next refresh). */
  readonly fetchedAtMs: number;
}

/**
 * The caching rule (decided here, documented in docs/voting.md): the vault fetches its member's
 * statement on every unlock and at a jittered ~12-hour interval, on a schedule that has nothing to
 * do with voting; it stores the latest one that verifies; CastVote only reads the cache (it never
 * fetches, so a fetch says nothing about a vote) and re-verifies the statement, expiry included,
 * at vote time. A fetch the backend refuses (`failed_precondition`: no active subscription) drops
 * nothing: the held statement simply expires at its valid_until_ms (at most 72 hours after issue).
 *
 * Verifies a freshly fetched statement and returns the cache record to store, or throws
 * `permission_denied` naming why it was refused (the old record stays).
 */
export function acceptSubscriptionStatement(
  statement: SubscriptionStatement | undefined,
  keys: TrustedKeys,
  ownerGuid: string,
  nowMs: number,
): CachedSubscription {
  const verified = verifySubscriptionStatement(statement, keys, { ownerGuid, nowMs });
  if (!verified.ok || statement === undefined) {
    throw new ConnectError(
      `subscription statement refused: ${verified.ok ? "missing" : verified.problem}`,
      Code.PermissionDenied,
    );
  }
  return {
    statement: toBinary(SubscriptionStatementSchema, statement),
    validUntilMs: Number(verified.payload.validUntilMs),
    fetchedAtMs: nowMs,
  };
}

/**
 * When the vault should next fetch a statement: `fetchedAtMs` + 12 hours ± up to an hour
 * (`random01` in [0, 1), default Math.random: the jitter is not a secret), or now when nothing is
 * cached or the cached statement has expired.
 */
export function nextSubscriptionRefreshAt(
  cached: CachedSubscription | undefined,
  nowMs: number,
  random01: () => number = Math.random,
): number {
  if (cached === undefined || nowMs >= cached.validUntilMs) return nowMs;
  const jitter = Math.round((random01() * 2 - 1) * SUBSCRIPTION_REFRESH_JITTER_MS);
  return cached.fetchedAtMs + SUBSCRIPTION_REFRESH_INTERVAL_MS + jitter;
}
