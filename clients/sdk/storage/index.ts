export type { CredentialStore, CredentialStoreOptions } from "./credential-store.js";
export {
  CREDENTIAL_KEY_PREFIX,
  createCredentialStore,
  credentialKey,
  credentialProblem,
  DEFAULT_RETAINED_CREDENTIALS,
  MAX_CREDENTIAL_BLOB_BYTES,
} from "./credential-store.js";
export { createFileSecureStorage } from "./file-secure-storage.js";
export type { SecureStorage } from "./secure-storage.js";
export { checkStorageKey, STORAGE_KEY_PATTERN } from "./secure-storage.js";
