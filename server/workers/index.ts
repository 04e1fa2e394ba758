export type { BackendWorkers, BackendWorkersOptions } from "./backend-workers.js";
export { startBackendWorkers } from "./backend-workers.js";
