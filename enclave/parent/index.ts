export { createEmfMetricsWriter, ENCLAVE_METRICS_NAMESPACE } from "./emf-metrics.js";
export type { KmsRelay, KmsRelayOptions } from "./kms-relay.js";
export { createKmsRelay } from "./kms-relay.js";
export type { FrameDirection, Parent, ParentOptions } from "./parent.js";
export {
  DEFAULT_ENCLAVE_KEY_PREFIX,
  DEFAULT_PARENT_QUEUE_GROUP,
  SUPERVISOR_RETRY_MS,
  startParent,
} from "./parent.js";
