export type { ConnectMemberOptions } from "./connect-member.js";
export { connectMember } from "./connect-member.js";
export type { AttestedEnclaveKey } from "./enclave-key.js";
export {
  ATTESTATION_NONCE_BYTES,
  AttestationRefusedError,
  fetchAttestedEnclaveKey,
} from "./enclave-key.js";
export {
  challengeRejectedDetail,
  isLostReplyError,
  isStaleEnclaveKeyError,
  passwordRejectedDetail,
  staleCredentialDetail,
  vaultLockedDetail,
} from "./vault-errors.js";
export type { MaybeRotated, VaultSession, VaultSessionOptions } from "./vault-session.js";
export {
  DEFAULT_UTK_POOL_SIZE,
  DEFAULT_UTK_REFILL_BELOW,
  DEFAULT_VAULT_CALL_TIMEOUT_MS,
  openVaultSession,
} from "./vault-session.js";
export type { CastVoteInVaultOptions } from "./vault-voting.js";
export { CAST_VOTE_PROCEDURE, castVoteInVault } from "./vault-voting.js";
