export {
  compareBytes,
  equalBytes,
  fromBase64,
  fromHex,
  isBase64,
  shortHex,
  toBase64,
  toHex,
} from "./bytes.js";
export type { Ed25519Verify } from "./ed25519-strict.js";
export {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  ed25519PublicKeyProblem,
  ed25519SignatureProblem,
  verifyEd25519Strict,
} from "./ed25519-strict.js";
export {
  attestedEnclaveKeys,
  ENCLAVE_VOTE_KEY_USER_DATA,
  verifyEnclaveVoteKeyCertificate,
} from "./enclave-key-certificate.js";
export type { EnclaveKeyPolicy, EnclaveKeyVerification } from "./enclave-key-policy.js";
export {
  enclaveKeyBindingOnly,
  enclaveKeyBindingProblem,
  enclaveKeyId,
} from "./enclave-key-policy.js";
export type { SignatureContext } from "./labels.js";
export {
  PROPOSAL_CONTEXT,
  SUBSCRIPTION_CONTEXT,
  signedMessage,
  VOTE_COUNTERSIGNATURE_CONTEXT,
  VOTE_LIST_HEAD_CONTEXT,
  VOTE_SIGNATURE_CONTEXT,
  VOTING_KEY_INFO,
} from "./labels.js";
export type { InclusionStep, MerkleRootBuilder } from "./merkle.js";
export {
  createMerkleRootBuilder,
  emptyTreeHash,
  inclusionPath,
  leafHash,
  MAX_INCLUSION_PATH_LENGTH,
  MERKLE_HASH_BYTES,
  merkleLevels,
  merkleRootOfLeafHashes,
  merkleTreeHash,
  nodeHash,
  rootFromInclusionProof,
  rootOfLevels,
  verifyInclusion,
} from "./merkle.js";
export { buildMerkleInclusionProof, merkleInclusionProofProblem } from "./merkle-proof.js";
export type { MyVoteCheck } from "./my-vote.js";
export {
  checkMyVoteInList,
  checkMyVoteProof,
  findVoteByHash,
  findVoteByVotingKey,
} from "./my-vote.js";
export type { MyVotes } from "./my-votes.js";
export { createMyVotes, MY_VOTES_KEY } from "./my-votes.js";
export {
  derSignatureProblem,
  keyIdOfSpki,
  MAX_P256_DER_SIGNATURE_BYTES,
  P256_SPKI_BYTES,
  P256_SPKI_PREFIX,
  p256PointFromSpki,
  p256SpkiFromPoint,
  verifyP256Der,
} from "./p256-signature.js";
export type { ProposalVerification, VerifiedProposal } from "./proposal.js";
export {
  choicesProblem,
  PROPOSAL_LIMITS,
  proposalPayloadProblem,
  quorumMet,
  quorumProblem,
  UUID_PATTERN,
  VALID_CHOICES,
  verifySignedProposal,
} from "./proposal.js";
export type {
  CountersignatureVerify,
  PublishedVoteCheck,
  SignedVoteCheck,
  SignedVoteCheckOptions,
  SignedVoteFailure,
  VoteProposal,
} from "./signed-vote.js";
export { checkPublishedVote, checkSignedVote } from "./signed-vote.js";
export type { Decoded } from "./strict-decode.js";
export { decodeStrict } from "./strict-decode.js";
export type { SubscriptionRefusal, SubscriptionVerification } from "./subscription-statement.js";
export {
  MAX_SUBSCRIPTION_VALIDITY_MS,
  SUBSCRIPTION_ISSUE_SKEW_MS,
  verifySubscriptionStatement,
} from "./subscription-statement.js";
export type { BackendSignatureFailure, BackendSignedObject, TrustedKeys } from "./trusted-keys.js";
export {
  backendSignatureFailure,
  describeBackendSignatureFailure,
  trustKeys,
} from "./trusted-keys.js";
export type { Sha256, VotePayloadDecoding } from "./vote.js";
export {
  decodeVotePayload,
  ENCLAVE_KEY_ID_PATTERN,
  HASH_BYTES,
  HOUR_MS,
  MAX_VOTE_NONCE_BYTES,
  MAX_VOTE_PAYLOAD_BYTES,
  MIN_VOTE_NONCE_BYTES,
  signedVoteShapeProblem,
  VOTE_HASH_CONTEXT,
  voteHash,
  votePayloadProblem,
} from "./vote.js";
export type {
  AuditVoteListOptions,
  EntryCheckData,
  VoteListAuditOptions,
  VoteListAuditor,
  VoteListAuditReport,
} from "./vote-list-audit.js";
export {
  auditVoteList,
  createVoteListAuditor,
  DEFAULT_MAX_AUDIT_PROBLEMS,
  entryCheckOptions,
} from "./vote-list-audit.js";
export {
  decodePublishedVoteBinary,
  decodeVoteListBinary,
  encodePublishedVoteBinary,
  encodeVoteListBinary,
  splitVoteListBinary,
} from "./vote-list-binary.js";
export type { VoteListHeadVerification } from "./vote-list-head.js";
export { verifySignedVoteListHead } from "./vote-list-head.js";
export type { SplitResult, SplitVoteList } from "./vote-list-json.js";
export {
  decodeVoteListJson,
  encodeVoteListJson,
  parsePublishedVoteJson,
  publishedVoteToJson,
  splitVoteListJson,
} from "./vote-list-json.js";
