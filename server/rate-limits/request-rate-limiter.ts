import { Code, ConnectError } from "@connectrpc/connect";
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

/** Counts requests per key and refuses them past a limit. */
export interface RequestRateLimiter {
  /**
   * Takes one request from `key`'s allowance. Rejects with `resource_exhausted` (retry time in
   * the message) when none is left, `unavailable` when the counter store failed.
   */
  consume(key: string): Promise<void>;
}

/** Options of {@link createRequestRateLimiter}. */
export interface RequestRateLimiterOptions {
  /** What is counted, for the error message ("enrollment starts from this address"). */
  readonly what: string;
  /** Requests per window. */
  readonly limit: number;
  /** Window in ms, a whole number of seconds. */
  readonly windowMs: number;
  /**
   * The counter store (`createDynamoRateLimiter` to share counters across instances); its own
   * points and duration then apply, and `limit`/`windowMs` only word errors. Default: this
   * process's memory.
   */
  readonly limiter?: RateLimiterAbstract;
}

/** A fixed-window limiter per key on rate-limiter-flexible. */
export function createRequestRateLimiter(options: RequestRateLimiterOptions): RequestRateLimiter {
  const { limit, windowMs } = options;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`limit must be a whole number of requests, at least 1; got ${limit}`);
  }
  if (!Number.isInteger(windowMs) || windowMs < 1000 || windowMs % 1000 !== 0) {
    throw new RangeError(
      `windowMs must be a whole number of seconds (>= 1000 ms); got ${windowMs}`,
    );
  }
  const limiter =
    options.limiter ?? new RateLimiterMemory({ points: limit, duration: windowMs / 1000 });
  return {
    async consume(key) {
      try {
        await limiter.consume(key, 1);
      } catch (outcome) {
        if (outcome instanceof RateLimiterRes) {
          const retrySeconds = Math.max(1, Math.ceil(outcome.msBeforeNext / 1000));
          throw new ConnectError(
            `too many ${options.what}: at most ${limit} per ${windowMs / 1000} s; retry in ${retrySeconds} s`,
            Code.ResourceExhausted,
          );
        }
        throw new ConnectError(
          "the rate limiter is unavailable",
          Code.Unavailable,
          undefined,
          undefined,
          outcome,
        );
      }
    },
  };
}
