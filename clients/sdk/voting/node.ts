/**
 * The node-only fast paths of the voting SDK (node:crypto's Ed25519 and SHA-256), apart from
 * `index.ts` so that the portable surface bundles for browsers.
 */
export { createEd25519KeyVerifier, verifyEd25519Node } from "./ed25519-node.js";
export { nodeSha256 } from "./sha256-node.js";
