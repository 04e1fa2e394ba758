export type { BackendRateLimiters, BackendRateLimits } from "./backend-rate-limiters.js";
export { createBackendRateLimiters } from "./backend-rate-limiters.js";
export type { BackendServiceContext, MemberIssuingKeys } from "./backend-services.js";
export {
  credentialBackupService,
  enrollmentService,
  memberCredentialService,
} from "./backend-services.js";
export {
  DEFAULT_ENROLL_START_PER_ADDRESS,
  DEFAULT_ENROLL_START_PER_INVITATION,
  DEFAULT_RECOVERY_REQUESTS_PER_DAY,
  ENROLL_START_WINDOW_MS,
  RECOVERY_WINDOW_MS,
} from "./rate-limit-defaults.js";
