export type { CodeBundleEntry } from "./code-bundle.js";
export {
  codeBundleListing,
  EXCLUDED_DIRECTORY_NAMES,
  EXCLUDED_FILE_SUFFIX,
  listCodeBundle,
  measureCodeBundle,
} from "./code-bundle.js";
export {
  COSE_ALG_ES384,
  COSE_SIGN1_TAG,
  ES384_SIGNATURE_LENGTH,
  MAX_ATTESTATION_FIELD_BYTES,
  MAX_SEAL_PLAINTEXT_BYTES,
  PCR_COUNT,
  PCR_DIGEST,
  PCR_LENGTH,
} from "./constants.js";
export {
  DEFAULT_INTERMEDIATE_VALIDITY_MS,
  DEFAULT_LEAF_MIN_REMAINING_MS,
  DEFAULT_LEAF_VALIDITY_MS,
} from "./dev-chain.js";
export type { DevNsm, DevNsmOptions } from "./dev-nsm.js";
export { createDevNsm } from "./dev-nsm.js";
export type { DevPcrInputs, MeasureDevPcrsOptions } from "./dev-pcrs.js";
export { defaultDevPcrInputs, defaultRuntimeDescription, measureDevPcrs } from "./dev-pcrs.js";
export type { DevRootCertificate, DevRootPem } from "./dev-root.js";
export { certificateFingerprint, DEFAULT_DEV_ROOT_VALIDITY_MS } from "./dev-root.js";
export {
  DEV_ROOT_CERTIFICATE_FILE,
  DEV_ROOT_FILE,
  DEV_SEALING_KEY_FILE,
} from "./dev-state-dir.js";
export type {
  AttestRequest,
  Nsm,
  NsmKind,
  PcrDescription,
  PcrValue,
  SealContext,
} from "./nsm.js";
export type { NsmErrorCode } from "./nsm-error.js";
export { NsmError } from "./nsm-error.js";
