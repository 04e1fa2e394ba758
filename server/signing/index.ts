export type { KmsSignerOptions } from "./kms-signer.js";
export { createKmsSigner } from "./kms-signer.js";
export type { LocalP256Signer } from "./local-p256-signer.js";
export { createLocalP256Signer, loadOrCreateLocalP256Signer } from "./local-p256-signer.js";
export type { OrgSigner, SignerKey } from "./org-signer.js";
export { signBackendObject } from "./org-signer.js";
