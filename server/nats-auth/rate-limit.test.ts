import { Code, ConnectError } from "@connectrpc/connect";
import { RateLimiterMemory } from "rate-limiter-flexible";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  createIssuanceRateLimiter,
  DEFAULT_MEMBER_ISSUANCE_LIMIT,
  DEFAULT_MEMBER_ISSUANCE_WINDOW_MS,
} from "./rate-limit.js";

const A = "member-a";
const B = "member-b";

async function rejection(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected a rejection");
}

describe("issuance rate limiting", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it(`allows ${DEFAULT_MEMBER_ISSUANCE_LIMIT} per hour by default, then resource_exhausted`, async () => {
    const limiter = createIssuanceRateLimiter();
    for (let i = 0; i < DEFAULT_MEMBER_ISSUANCE_LIMIT; i++) await limiter.consume(A);
    const error = await rejection(limiter.consume(A));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toBe(
      `too many NATS credentials issued for member ${A}: at most ${DEFAULT_MEMBER_ISSUANCE_LIMIT} per hour; retry in 3600 s`,
    );
  });

  it("counts each member apart", async () => {
    const limiter = createIssuanceRateLimiter({ limit: 2 });
    await limiter.consume(A);
    await limiter.consume(A);
    await expect(limiter.consume(A)).rejects.toThrow(/member-a/);
    await limiter.consume(B);
    await limiter.consume(B);
  });

  it("allows again once the window has passed, and says when", async () => {
    const limiter = createIssuanceRateLimiter({ limit: 1, windowMs: 60_000 });
    await limiter.consume(A);
    vi.advanceTimersByTime(45_000);
    const error = await rejection(limiter.consume(A));
    expect(error.rawMessage).toContain("at most 1 per minute; retry in 15 s");
    vi.advanceTimersByTime(15_001);
    await limiter.consume(A);
  });

  it("uses a store it is given (shared across processes in production)", async () => {
    const store = new RateLimiterMemory({ points: 1, duration: 10 });
    const first = createIssuanceRateLimiter({ limiter: store, limit: 1, windowMs: 10_000 });
    const second = createIssuanceRateLimiter({ limiter: store, limit: 1, windowMs: 10_000 });
    await first.consume(A);
    expect((await rejection(second.consume(A))).code).toBe(Code.ResourceExhausted);
  });

  it("reports a failing store as unavailable, not as the member's fault", async () => {
    const broken = new RateLimiterMemory({ points: 1, duration: 1 });
    broken.consume = () => Promise.reject(new Error("DynamoDB is down"));
    const error = await rejection(createIssuanceRateLimiter({ limiter: broken }).consume(A));
    expect(error.code).toBe(Code.Unavailable);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it("refuses nonsensical options", () => {
    expect(() => createIssuanceRateLimiter({ limit: 0 })).toThrow(/limit must be/);
    expect(() => createIssuanceRateLimiter({ windowMs: 1500 })).toThrow(/whole number of seconds/);
    expect(DEFAULT_MEMBER_ISSUANCE_WINDOW_MS).toBe(3_600_000);
  });
});
