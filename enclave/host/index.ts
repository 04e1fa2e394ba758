export type { EnclaveHost, EnclaveHostOptions, HostProcess } from "./start-enclave-host.js";
export { DEFAULT_READY_TIMEOUT_MS, startEnclaveHost } from "./start-enclave-host.js";
