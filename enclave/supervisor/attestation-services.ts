import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  AttestationEvidenceSchema,
  type EnclaveAttestationService,
  GetAttestationResponseSchema,
  GetVaultAttestationResponseSchema,
  type VaultAttestationService,
} from "../../gen/vettid/attestation/v1/attestation_service_pb.js";

/** Produces attestation documents carrying the sealing key; see {@link createAttestationServices}. */
export interface Attester {
  attest(nonce: Uint8Array): Promise<Uint8Array>;
  readonly sealingPublicKey: Uint8Array;
  readonly enclaveId: string;
}

function requireNonce(nonce: Uint8Array): Uint8Array {
  if (nonce.length < 16 || nonce.length > 64) {
    throw new ConnectError("nonce must be 16 to 64 bytes", Code.InvalidArgument);
  }
  return nonce;
}

/** EnclaveAttestationService (backend, operators) and VaultAttestationService (apps). */
export function createAttestationServices(attester: Attester): {
  enclave: ServiceImpl<typeof EnclaveAttestationService>;
  vault: ServiceImpl<typeof VaultAttestationService>;
} {
  const evidence = async (nonce: Uint8Array) =>
    create(AttestationEvidenceSchema, {
      attestationDocument: await attester.attest(requireNonce(nonce)),
      sealingPublicKey: attester.sealingPublicKey,
      enclaveId: attester.enclaveId,
    });
  return {
    enclave: {
      async getAttestation(request) {
        return create(GetAttestationResponseSchema, { evidence: await evidence(request.nonce) });
      },
    },
    vault: {
      async getVaultAttestation(request) {
        return create(GetVaultAttestationResponseSchema, {
          evidence: await evidence(request.nonce),
        });
      },
    },
  };
}
