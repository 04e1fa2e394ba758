export type { EncryptedPasswordHash, X25519KeyPair } from "./credential-crypto.js";
export { CREDENTIAL_INFO_LABEL, PASSWORD_INFO_LABEL } from "./credential-crypto.js";
export {
  ARGON2ID_MINIMUMS,
  CHALLENGE_TTL_MS,
  INITIAL_UTK_COUNT,
  MAX_PASSWORD_ATTEMPTS,
  MAX_UTK_POOL,
  PASSWORD_LOCKOUT_MS,
  PASSWORD_OPERATIONS,
} from "./credentials.js";
export { createBootstrapService } from "./services/bootstrap-service.js";
export { createCredentialService } from "./services/credential-service.js";
export { createPinService } from "./services/pin-service.js";
export {
  createProvisioningService,
  ENROLL_FINALIZE_INFO,
} from "./services/provisioning-service.js";
export { createSecretsService, MAX_SECRET_VALUE_BYTES } from "./services/secrets-service.js";
export { createStatusService, SERVED_OPERATIONS } from "./services/status-service.js";
export type { VaultAccess } from "./services/vault-access.js";
export type { PendingVoteOutcome, VaultVoting } from "./services/voting-service.js";
export { createVotingService, writePendingOutcomes } from "./services/voting-service.js";
export type { FreshnessLedger, PinCheck, VaultEnvironment, VaultLoadRefusal } from "./vault.js";
export {
  createFreshnessLedger,
  INLINE_DATABASE_MAX_BYTES,
  MAX_PIN_ATTEMPTS,
  PIN_LOCKOUT_MS,
  VAULT_RECORD_FORMAT,
  Vault,
  VaultLoadError,
  vaultDatabaseKey,
  vaultRecordKey,
} from "./vault.js";
export { DATABASE_AAD_LABEL, DEK_LABEL, RECORD_KEY_LABEL } from "./vault-crypto.js";
export type { VaultDatabase } from "./vault-database.js";
export { VAULT_SCHEMA_VERSION } from "./vault-database.js";
