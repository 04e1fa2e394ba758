export type { Attester } from "./attestation-services.js";
export { createAttestationServices } from "./attestation-services.js";
export type { EnclaveMetrics } from "./enclave-metrics.js";
export { createEnclaveMetrics, DEFAULT_METRICS_FLUSH_MS, METRIC } from "./enclave-metrics.js";
export type { EnclaveVoting, EnclaveVotingOptions } from "./enclave-voting.js";
export { createEnclaveVoting, SUBSCRIPTION_RETRY_MS } from "./enclave-voting.js";
export type { RelayedNatsConnection } from "./relayed-nats-connection.js";
export {
  createRelayedNatsConnection,
  DEFAULT_RELAYED_MAX_PAYLOAD,
  subjectMatches,
} from "./relayed-nats-connection.js";
export type { Supervisor, SupervisorOptions, SupervisorVotingOptions } from "./supervisor.js";
export { startSupervisor, VAULT_VERSION } from "./supervisor.js";
export type {
  VaultRegistry,
  VaultRegistryObserver,
  VaultRegistryOptions,
} from "./vault-registry.js";
export {
  createVaultRegistry,
  DEFAULT_IDLE_LOCK_MS,
  DEFAULT_MEMORY_BUDGET_BYTES,
  DEFAULT_VAULT_OVERHEAD_BYTES,
} from "./vault-registry.js";
export { createVsockBlobStore } from "./vsock-blob-store.js";
