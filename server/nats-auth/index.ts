export type {
  CreateSystemAccountOptions,
  CreateVettidAccountOptions,
  SystemAccount,
  VettidAccount,
} from "./account.js";
export {
  createSystemAccount,
  createVettidAccount,
  DEFAULT_ACCOUNT_LIMITS,
  DEFAULT_SYSTEM_ACCOUNT_LIMITS,
  SYSTEM_ACCOUNT_NAME,
  VETTID_ACCOUNT_NAME,
} from "./account.js";
export type {
  IssuedMemberCredentials,
  MemberCredentialIssuer,
  MemberCredentialIssuerOptions,
  MemberUserLimits,
} from "./member-user.js";
export {
  createMemberCredentialIssuer,
  DEFAULT_MEMBER_CONNECTION_TYPES,
  DEFAULT_MEMBER_JWT_TTL_MS,
  DEFAULT_MEMBER_MAX_DATA_BYTES,
  DEFAULT_MEMBER_MAX_PAYLOAD_BYTES,
  DEFAULT_MEMBER_MAX_SUBSCRIPTIONS,
  DEFAULT_MEMBER_USER_LIMITS,
  MAX_MEMBER_JWT_TTL_MS,
  MEMBER_PERMISSIONS,
  MEMBER_SIGNING_KEY_ROLE,
  MIN_MEMBER_JWT_TTL_MS,
  memberPermissions,
  memberSigningKeyScope,
} from "./member-user.js";
export type { CreateOperatorOptions, NatsOperator } from "./operator.js";
export { createOperator, DEFAULT_OPERATOR_NAME } from "./operator.js";
export type { NatsPermissionSet } from "./permissions.js";
export { toJwtPermissions, toNatsPermissionsMessage } from "./permissions.js";
export type { IssuanceRateLimiter, IssuanceRateLimiterOptions } from "./rate-limit.js";
export {
  createIssuanceRateLimiter,
  DEFAULT_MEMBER_ISSUANCE_LIMIT,
  DEFAULT_MEMBER_ISSUANCE_WINDOW_MS,
} from "./rate-limit.js";
export type { IssueResolverUpdateUserOptions } from "./resolver-update.js";
export {
  accountClaimsUpdateSubject,
  DEFAULT_RESOLVER_UPDATE_JWT_TTL_MS,
  DEFAULT_RESOLVER_UPDATE_TIMEOUT_MS,
  issueResolverUpdateUser,
  pushAccountJwt,
  RESOLVER_UPDATE_PERMISSIONS,
} from "./resolver-update.js";
export type { RevokedAccount, RevokeUsersOptions } from "./revocation.js";
export {
  DEFAULT_REVOCATION_RETENTION_MS,
  decodeAccountJwt,
  isUserJwtRevoked,
  revokeUsers,
} from "./revocation.js";
export type { OperatorModeConfigOptions } from "./server-config.js";
export { operatorModeConfig } from "./server-config.js";
export type { IssuedServiceUser, IssueServiceUserOptions, ServiceRole } from "./service-users.js";
export {
  DEFAULT_OPERATOR_JWT_TTL_MS,
  DEFAULT_SERVICE_CONNECTION_TYPES,
  DEFAULT_SERVICE_JWT_TTL_MS,
  issueServiceUser,
  MAX_SERVICE_JWT_TTL_MS,
  SERVICE_PERMISSIONS,
  servicePermissions,
} from "./service-users.js";
export type { NatsTrust } from "./trust.js";
export { createNatsTrust } from "./trust.js";
export { PUBLIC_NKEY_LENGTH } from "./validation.js";
