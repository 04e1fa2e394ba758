import { RateLimiterDynamo } from "rate-limiter-flexible";
import type { DynamoContext } from "./table-access.js";
import { tableName } from "./tables.js";

/** Options of {@link createDynamoRateLimiter}. */
export interface DynamoRateLimiterOptions {
  /** Prefix of this limiter's keys (one table holds every limiter's counters). */
  readonly keyPrefix: string;
  /** Points per window. */
  readonly points: number;
  /** Window, whole seconds. */
  readonly durationSeconds: number;
}

/**
 * A rate-limiter-flexible limiter whose counters live in the `rateLimits` table, so every
 * Lambda instance and process shares them (atomic counters with conditional updates). The table
 * comes from `TABLES.rateLimits` (created by the CDK stack or `ensureTables`); the limiter never
 * creates tables or changes TTL settings itself.
 */
export function createDynamoRateLimiter(
  context: DynamoContext,
  options: DynamoRateLimiterOptions,
): RateLimiterDynamo {
  return new RateLimiterDynamo({
    storeClient: context.client,
    tableName: tableName(context.environment, "rateLimits"),
    tableCreated: true,
    ttlSet: true,
    keyPrefix: options.keyPrefix,
    points: options.points,
    duration: options.durationSeconds,
  });
}
