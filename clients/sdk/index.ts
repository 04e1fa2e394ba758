/**
 * The reference client SDK of VettID Vault Services. Each area has its own entry point too
 * (`clients/sdk/<area>/index.ts`); docs/sdk.md walks through the flows step by step.
 */
export * from "./attestation/index.js";
export * from "./control/index.js";
export * from "./enrollment/index.js";
export * from "./member/index.js";
export * from "./password/index.js";
export * from "./session/index.js";
export * from "./storage/index.js";
