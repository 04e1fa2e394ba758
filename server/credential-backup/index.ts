export type { AccountAuthenticator, AuthenticatedAccount } from "./account-authenticator.js";
export { createDevAccountAuthenticator, issueDevAccountToken } from "./account-authenticator.js";
export type { CredentialBackupServiceOptions } from "./credential-backup-service.js";
export {
  CANCEL_TOKEN_LENGTH,
  createCredentialBackupService,
  MAX_CREDENTIAL_BACKUP_BYTES,
  RECOVERY_DELAY_MS,
  RECOVERY_DOWNLOAD_WINDOW_MS,
} from "./credential-backup-service.js";
export type { RecoveryNotice, RecoveryNotifier } from "./recovery-notifier.js";
export { createLoggingRecoveryNotifier } from "./recovery-notifier.js";
