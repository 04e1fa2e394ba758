export type { RequestRateLimiter, RequestRateLimiterOptions } from "./request-rate-limiter.js";
export { createRequestRateLimiter } from "./request-rate-limiter.js";
