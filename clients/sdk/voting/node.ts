/**
 * The node-only parts of the voting SDK (node:crypto's Ed25519 and SHA-256, worker threads), apart
 * from `index.ts` so that the portable surface bundles for browsers.
 */
export { createEd25519KeyVerifier, verifyEd25519Node } from "./ed25519-node.js";
export type { ParallelAuditOptions, ParallelAuditReport } from "./parallel-audit.js";
export {
  auditVoteListParallel,
  DEFAULT_AUDIT_CHUNK_ENTRIES,
  readFileShared,
} from "./parallel-audit.js";
export { nodeSha256 } from "./sha256-node.js";
export { trustKeysNode } from "./trusted-keys-node.js";
