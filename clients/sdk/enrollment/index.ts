export type { DeviceAttester, DeviceKey } from "./device-key.js";
export {
  createDeviceProof,
  DEVICE_ATTESTATION_LABEL,
  DEVICE_PROOF_LABEL,
  deviceAttestationChallenge,
  devUnattested,
  softwareDeviceKey,
} from "./device-key.js";
export type { Enrollment, EnrollOptions, EnrollStep } from "./enroll.js";
export { ENROLL_STEPS, EnrollmentError, enroll } from "./enroll.js";
export {
  ENROLL_FINALIZE_INFO,
  MAX_SEALED_CREDENTIAL_REQUEST_BYTES,
  sealCredentialMaterial,
} from "./seal-credential-material.js";
