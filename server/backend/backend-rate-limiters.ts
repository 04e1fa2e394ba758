import {
  createIssuanceRateLimiter,
  DEFAULT_MEMBER_ISSUANCE_LIMIT,
  DEFAULT_MEMBER_ISSUANCE_WINDOW_MS,
  type IssuanceRateLimiter,
} from "../nats-auth/index.js";
import { createRequestRateLimiter, type RequestRateLimiter } from "../rate-limits/index.js";
import { createDynamoRateLimiter } from "../storage/rate-limiters.js";
import type { DynamoContext } from "../storage/table-access.js";
import {
  DEFAULT_ENROLL_START_PER_ADDRESS,
  DEFAULT_ENROLL_START_PER_INVITATION,
  DEFAULT_RECOVERY_REQUESTS_PER_DAY,
  ENROLL_START_WINDOW_MS,
  RECOVERY_WINDOW_MS,
} from "./rate-limit-defaults.js";

/** Every rate limit of the backend's HTTP services. */
export interface BackendRateLimiters {
  /** NATS JWTs per member (NatsBootstrap and RefreshNatsCredentials together). */
  readonly issuance: IssuanceRateLimiter;
  readonly enrollStartPerAddress: RequestRateLimiter;
  readonly enrollStartPerInvitation: RequestRateLimiter;
  readonly recoveryPerMember: RequestRateLimiter;
}

/** Limits other than the defaults (tests use small ones). */
export interface BackendRateLimits {
  readonly issuancePerHour?: number;
  readonly enrollStartPerAddressPerHour?: number;
  readonly enrollStartPerInvitationPerHour?: number;
  readonly recoveryPerDay?: number;
}

/**
 * The backend's rate limiters with their counters in the `rateLimits` table, so every Lambda
 * instance and process counts together (a limit per instance would multiply with the number of
 * instances).
 */
export function createBackendRateLimiters(
  dynamo: DynamoContext,
  limits: BackendRateLimits = {},
): BackendRateLimiters {
  const limiter = (keyPrefix: string, points: number, windowMs: number) =>
    createDynamoRateLimiter(dynamo, { keyPrefix, points, durationSeconds: windowMs / 1000 });
  const issuance = limits.issuancePerHour ?? DEFAULT_MEMBER_ISSUANCE_LIMIT;
  const perAddress = limits.enrollStartPerAddressPerHour ?? DEFAULT_ENROLL_START_PER_ADDRESS;
  const perInvitation =
    limits.enrollStartPerInvitationPerHour ?? DEFAULT_ENROLL_START_PER_INVITATION;
  const recovery = limits.recoveryPerDay ?? DEFAULT_RECOVERY_REQUESTS_PER_DAY;
  return {
    issuance: createIssuanceRateLimiter({
      limit: issuance,
      windowMs: DEFAULT_MEMBER_ISSUANCE_WINDOW_MS,
      limiter: limiter("nats-issuance", issuance, DEFAULT_MEMBER_ISSUANCE_WINDOW_MS),
    }),
    enrollStartPerAddress: createRequestRateLimiter({
      what: "enrollment starts from this address",
      limit: perAddress,
      windowMs: ENROLL_START_WINDOW_MS,
      limiter: limiter("enroll-start-address", perAddress, ENROLL_START_WINDOW_MS),
    }),
    enrollStartPerInvitation: createRequestRateLimiter({
      what: "enrollment starts with this invitation code",
      limit: perInvitation,
      windowMs: ENROLL_START_WINDOW_MS,
      limiter: limiter("enroll-start-invitation", perInvitation, ENROLL_START_WINDOW_MS),
    }),
    recoveryPerMember: createRequestRateLimiter({
      what: "recovery requests for this member",
      limit: recovery,
      windowMs: RECOVERY_WINDOW_MS,
      limiter: limiter("recovery-request", recovery, RECOVERY_WINDOW_MS),
    }),
  };
}
