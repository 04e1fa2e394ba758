export type { EchoServiceHooks } from "./echo-service.js";
export { createEchoService } from "./echo-service.js";
export { createVaultEchoService } from "./vault-echo-service.js";
