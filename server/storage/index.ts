export type { Item } from "./attribute-values.js";
export { ItemShapeError } from "./attribute-values.js";
export type { ControlAuditEntry, ControlAuditTable } from "./control-audit-table.js";
export { createControlAuditTable, MAX_AUDIT_ENTRIES_LISTED } from "./control-audit-table.js";
export type { EnsureTablesOptions } from "./create-tables.js";
export { DEFAULT_TABLE_ACTIVE_TIMEOUT_MS, ensureTables } from "./create-tables.js";
export type {
  CredentialBackupRecord,
  CredentialBackupsTable,
  RecoveryRecord,
  StoredRecoveryStatus,
} from "./credential-backups-table.js";
export { createCredentialBackupsTable } from "./credential-backups-table.js";
export type { DeviceProofNoncesTable } from "./device-proof-nonces-table.js";
export { createDeviceProofNoncesTable } from "./device-proof-nonces-table.js";
export type { DynamoClientOptions } from "./dynamo-client.js";
export { createDynamoClient, DEFAULT_DYNAMO_MAX_ATTEMPTS } from "./dynamo-client.js";
export type {
  EnrollmentSessionRecord,
  EnrollmentSessionState,
  EnrollmentSessionsTable,
  NewEnrollmentSession,
} from "./enrollment-sessions-table.js";
export { createEnrollmentSessionsTable } from "./enrollment-sessions-table.js";
export type { InvitationRecord, InvitationsTable } from "./invitations-table.js";
export { createInvitationsTable } from "./invitations-table.js";
export type { MemberRecord, MemberStatus, MembersTable } from "./members-table.js";
export { createMembersTable } from "./members-table.js";
export type { NatsAccountsTable, StoredAccountJwt } from "./nats-accounts-table.js";
export { createNatsAccountsTable } from "./nats-accounts-table.js";
export type { NatsTokenRecord, NatsTokensTable } from "./nats-tokens-table.js";
export { createNatsTokensTable, MAX_TOKENS_LISTED } from "./nats-tokens-table.js";
export type { DynamoRateLimiterOptions } from "./rate-limiters.js";
export { createDynamoRateLimiter } from "./rate-limiters.js";
export type { RevocationRecord, RevocationsTable } from "./revocations-table.js";
export { createRevocationsTable } from "./revocations-table.js";
export type { S3BlobStoreOptions } from "./s3-blob-store.js";
export { createS3BlobStore, DEFAULT_S3_DELETE_ATTEMPTS } from "./s3-blob-store.js";
export { isConditionalCheckFailed, storageUnavailable } from "./storage-errors.js";
export type { DynamoContext, Expression } from "./table-access.js";
export { TableAccess } from "./table-access.js";
export type { GlobalIndex, KeyAttribute, TableDefinition, TableKey } from "./tables.js";
export { TABLES, tableName } from "./tables.js";
