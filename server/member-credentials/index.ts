export type {
  CredentialIssuance,
  CredentialIssuanceOptions,
  IssuedBy,
} from "./credential-issuance.js";
export { createCredentialIssuance } from "./credential-issuance.js";
export type { MemberCredentialServiceOptions } from "./member-credential-service.js";
export { createMemberCredentialService } from "./member-credential-service.js";
export type {
  AccountJwtSigning,
  MemberTokenRevoker,
  MemberTokenRevokerOptions,
  RevocationScope,
  RevokeMemberTokensRequest,
  RevokeMemberTokensResult,
} from "./member-token-revoker.js";
export {
  createMemberTokenRevoker,
  DEFAULT_REVOCATION_WRITE_ATTEMPTS,
} from "./member-token-revoker.js";
