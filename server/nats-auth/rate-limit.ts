import { Code, ConnectError } from "@connectrpc/connect";
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

/**
 * How many NATS JWTs one member may be issued per window. A member needs about one a day (the app
 * refreshes when a fifth of {@link DEFAULT_MEMBER_JWT_TTL_MS} remains) plus one per enrollment or
 * reinstall; 10 leaves room for retries after network failures and a few devices, while a stolen
 * device proof cannot mint credentials in bulk (each one is a live connection NATS cannot cap per
 * user).
 */
export const DEFAULT_MEMBER_ISSUANCE_LIMIT = 10;

/** The window of {@link DEFAULT_MEMBER_ISSUANCE_LIMIT}: an hour, so a locked-out member waits at most that. */
export const DEFAULT_MEMBER_ISSUANCE_WINDOW_MS = 60 * 60 * 1000;

/** Counts credential issuance per member and refuses it past the limit. */
export interface IssuanceRateLimiter {
  /**
   * Takes one issuance from the member's allowance. Rejects with `resource_exhausted` (retry
   * time in the message) when none is left, or `unavailable` when the counter's store failed.
   */
  consume(ownerGuid: string): Promise<void>;
}

/** Options of {@link createIssuanceRateLimiter}. */
export interface IssuanceRateLimiterOptions {
  /** Issuances per window. Default {@link DEFAULT_MEMBER_ISSUANCE_LIMIT}. */
  readonly limit?: number;
  /** Window in ms, a whole number of seconds. Default {@link DEFAULT_MEMBER_ISSUANCE_WINDOW_MS}. */
  readonly windowMs?: number;
  /**
   * The counter store, for limits shared across processes (Lambda instances each have their own
   * memory): for example `new RateLimiterDynamo({ storeClient, points, duration })` from the same
   * package. Its own `points` and `duration` then apply and `limit`/`windowMs` only word errors.
   * Default: in this process's memory (`RateLimiterMemory`), enough for one server.
   */
  readonly limiter?: RateLimiterAbstract;
}

/**
 * Rate-limits NATS credential issuance per member (fixed windows, `rate-limiter-flexible`), so
 * enrollment and refresh cannot be used to mint JWTs in bulk.
 */
export function createIssuanceRateLimiter(
  options: IssuanceRateLimiterOptions = {},
): IssuanceRateLimiter {
  const limit = options.limit ?? DEFAULT_MEMBER_ISSUANCE_LIMIT;
  const windowMs = options.windowMs ?? DEFAULT_MEMBER_ISSUANCE_WINDOW_MS;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`limit must be a whole number of issuances, at least 1; got ${limit}`);
  }
  if (!Number.isInteger(windowMs) || windowMs < 1000 || windowMs % 1000 !== 0) {
    throw new RangeError(
      `windowMs must be a whole number of seconds (>= 1000 ms); got ${windowMs}`,
    );
  }
  const limiter =
    options.limiter ??
    new RateLimiterMemory({
      keyPrefix: "vettid-nats-issuance",
      points: limit,
      duration: windowMs / 1000,
    });
  return {
    async consume(ownerGuid) {
      try {
        await limiter.consume(ownerGuid, 1);
      } catch (outcome) {
        if (outcome instanceof RateLimiterRes) {
          const retrySeconds = Math.max(1, Math.ceil(outcome.msBeforeNext / 1000));
          throw new ConnectError(
            `too many NATS credentials issued for member ${ownerGuid}: at most ${limit} per ${describeWindow(windowMs)}; retry in ${retrySeconds} s`,
            Code.ResourceExhausted,
          );
        }
        throw new ConnectError(
          "NATS credential rate limiter is unavailable",
          Code.Unavailable,
          undefined,
          undefined,
          outcome,
        );
      }
    },
  };
}

function describeWindow(ms: number): string {
  if (ms % 3_600_000 === 0) return ms === 3_600_000 ? "hour" : `${ms / 3_600_000} hours`;
  if (ms % 60_000 === 0) return ms === 60_000 ? "minute" : `${ms / 60_000} minutes`;
  return `${ms / 1000} s`;
}
