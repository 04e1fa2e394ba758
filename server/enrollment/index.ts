export type {
  DeviceAttestationVerifier,
  DeviceAttestationVerifierOptions,
  PlatformAttestationVerifier,
  VerifiedDevice,
} from "./device-attestation.js";
export {
  checkDeviceAttestationShape,
  createDeviceAttestationVerifier,
  MAX_DEVICE_ATTESTATION_TOKEN_BYTES,
} from "./device-attestation.js";
export {
  DEVICE_KEY_CHALLENGE_LABEL,
  DEVICE_PUBLIC_KEY_LENGTH,
  deviceKeyChallenge,
  requireDevicePublicKey,
} from "./device-key.js";
export type {
  DeviceProofChecker,
  DeviceProofCheckerOptions,
  DeviceProofExpectation,
} from "./device-proof.js";
export {
  createDeviceProofChecker,
  DEFAULT_DEVICE_PROOF_WINDOW_MS,
  DEVICE_PROOF_LABEL,
  DEVICE_PROOF_NONCE_LENGTH,
  deviceProofMessage,
  MAX_DEVICE_PROOF_PAYLOAD_BYTES,
  MAX_DEVICE_PROOF_SIGNATURE_BYTES,
} from "./device-proof.js";
export type { EnclaveGateway, VerifiedAttestation } from "./enclave-gateway.js";
export type { EnrollmentServiceOptions } from "./enrollment-service.js";
export {
  ATTESTATION_NONCE_LENGTH,
  createEnrollmentService,
  DEFAULT_ENROLLMENT_SESSION_TTL_MS,
  MAX_SEALED_CREDENTIAL_REQUEST_BYTES,
  MIN_SEALED_CREDENTIAL_REQUEST_BYTES,
} from "./enrollment-service.js";
export type { IssueInvitationOptions } from "./invitation-code.js";
export {
  createInvitationCode,
  DEFAULT_INVITATION_TTL_MS,
  INVITATION_CODE_PATTERN,
  invitationCodeHash,
  issueInvitation,
  requireInvitationCode,
} from "./invitation-code.js";
export type { NatsEnclaveGatewayOptions } from "./nats-enclave-gateway.js";
export {
  createNatsEnclaveGateway,
  DEFAULT_ENCLAVE_CALL_TIMEOUT_MS,
} from "./nats-enclave-gateway.js";
