import type {
  CreateCredentialRequest,
  CreateCredentialResponse,
} from "../../gen/vettid/vault/v1/provisioning_pb.js";

/** An enclave attestation the backend has verified. */
export interface VerifiedAttestation {
  /** The document exactly as the enclave's NSM produced it (handed to the app unchanged). */
  readonly attestationDocument: Uint8Array;
  /** The enclave's X25519 sealing key (32 bytes), taken from the verified document. */
  readonly sealingPublicKey: Uint8Array;
  /** Which enclave answered (informational). */
  readonly enclaveId: string;
  /** The id of the accepted PCR set the document matched. */
  readonly matchedPcrSetId: string;
}

/**
 * The backend's side of the enclave, as enrollment needs it. Errors are `ConnectError`s:
 * `unavailable` when no enclave answers or none attests acceptably, and the enclave's own codes
 * (`invalid_argument`, `already_exists`, `failed_precondition`) passed through from
 * `createCredential`.
 */
export interface EnclaveGateway {
  /**
   * A fresh attestation document bound to `nonce` (16–64 bytes), verified: chain to a trusted
   * root, accepted PCRs, not debug (unless allowed), fresh, the nonce echoed, a 32-byte public key.
   */
  getAttestation(nonce: Uint8Array): Promise<VerifiedAttestation>;
  /**
   * `ProvisioningService.CreateCredential`, sealed to `sealingPublicKey`: the key of the verified
   * document the app sealed its material to (kept with the enrollment session).
   */
  createCredential(
    request: CreateCredentialRequest,
    sealingPublicKey: Uint8Array,
  ): Promise<CreateCredentialResponse>;
}
