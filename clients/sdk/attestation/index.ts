export type {
  AttestationDocument,
  VerificationResult,
} from "../../../gen/vettid/attestation/v1/document_pb.js";
export {
  TrustRoot,
  VerificationFailure,
} from "../../../gen/vettid/attestation/v1/document_pb.js";
export type {
  PcrSet,
  PcrSetList,
  SignedPcrSetList,
} from "../../../gen/vettid/attestation/v1/pcr_pb.js";
export type { ChainTrust } from "./certificate-chain.js";
export {
  COSE_ALG_ES384,
  COSE_SIGN1_TAG,
  MAX_ATTESTATION_FIELD_BYTES,
  MAX_DOCUMENT_BYTES,
  PCR_DIGEST,
  PCR_LENGTH,
  PCR_SET_LIST_SIGNATURE_LABEL,
} from "./constants.js";
export type {
  AttestationTrustStore,
  ResolvedVerifyAttestationOptions,
  VerifyAttestationOptions,
} from "./options.js";
export {
  DEFAULT_CLOCK_SKEW_MS,
  DEFAULT_MAX_AGE_MS,
  resolveVerifyAttestationOptions,
} from "./options.js";
export type { PcrPolicy } from "./pcr-policy.js";
export type { AcceptedPcrSets } from "./pcr-sets.js";
export { REQUIRED_SET_PCRS } from "./pcr-sets.js";
export type {
  OperatorKeys,
  PcrSetListRefusal,
  PcrSetListVerification,
  VerifySignedPcrSetListOptions,
} from "./signed-pcr-set-list.js";
export { pcrSetListSignedMessage, verifySignedPcrSetList } from "./signed-pcr-set-list.js";
export type { PinnedRoot } from "./trust-roots.js";
export { AWS_NITRO_ROOT_G1, AWS_NITRO_ROOT_G1_SHA256 } from "./trust-roots.js";
export type { Clock } from "./verification-time.js";
export type { AttestationVerification } from "./verify-attestation.js";
export { verifyAttestation } from "./verify-attestation.js";
