/**
 * A member's vault on the enclave stack, created the way the backend relays EnrollFinalize: the
 * SDK verifies the enclave's attestation, hashes the password (real Argon2id) and seals the
 * credential material to the attested key; ProvisioningService.CreateCredential carries it.
 */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import type { AttestationTrustStore } from "../../clients/sdk/attestation/index.js";
import { verifyAttestation } from "../../clients/sdk/attestation/index.js";
import { sealCredentialMaterial } from "../../clients/sdk/enrollment/index.js";
import type { MemberStore } from "../../clients/sdk/member/index.js";
import { createArgon2idParameters, hashPassword } from "../../clients/sdk/password/index.js";
import { EnclaveAttestationService } from "../../gen/vettid/attestation/v1/attestation_service_pb.js";
import { PcrSetSchema } from "../../gen/vettid/attestation/v1/pcr_pb.js";
import { CredentialCreationMaterialSchema } from "../../gen/vettid/enrollment/v1/enrollment_pb.js";
import { ProvisioningService } from "../../gen/vettid/vault/v1/provisioning_pb.js";
import { createNatsTransport, createRequestSealer, createRpcClient } from "../../rpc/index.js";
import type { EnclaveStack } from "../support/enclave-stack.js";

/** What an app of the stack's build trusts: the dev root and the build's PCR0–2. */
export async function stackTrust(stack: EnclaveStack): Promise<AttestationTrustStore> {
  const root = await stack.nsm.rootCertificate();
  const { pcrs } = await stack.nsm.describePcrs();
  return {
    devRootSha256: root.fingerprintSha256,
    allowDevRoot: true,
    pcrSets: [
      create(PcrSetSchema, {
        id: "dev-build",
        pcrs: Object.fromEntries(pcrs.filter((p) => p.index <= 2).map((p) => [p.index, p.value])),
      }),
    ],
  };
}

/** Creates the vault of `ownerGuid` with `password` and stores its first credential in `member`. */
export async function createMemberVault(options: {
  readonly stack: EnclaveStack;
  readonly member: MemberStore;
  readonly trust: AttestationTrustStore;
  readonly password: string;
  readonly ownerGuid: string;
}): Promise<void> {
  const backend = await options.stack.connect();
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  const { evidence } = await createRpcClient(
    EnclaveAttestationService,
    createNatsTransport({ connection: backend }),
  ).getAttestation({ nonce });
  const verified = verifyAttestation(evidence?.attestationDocument ?? new Uint8Array(), {
    ...options.trust,
    expectedNonce: nonce,
    requirePublicKey: true,
  });
  if (!verified.valid || verified.document.publicKey === undefined)
    throw new Error(verified.detail);
  const key = verified.document.publicKey;
  const sessionId = randomUUID();
  const parameters = createArgon2idParameters({ parallelism: 1 });
  const sealed = await sealCredentialMaterial(
    create(CredentialCreationMaterialSchema, {
      enrollmentSessionId: sessionId,
      attestationNonce: nonce,
      passwordHash: await hashPassword(options.password, parameters),
      passwordParameters: parameters,
    }),
    key,
    sessionId,
  );
  const created = await createRpcClient(
    ProvisioningService,
    createNatsTransport({ connection: backend, sealing: createRequestSealer(key) }),
  ).createCredential({
    enrollmentSessionId: sessionId,
    attestationNonce: nonce,
    sealedCredentialRequest: sealed,
    ownerGuid: options.ownerGuid,
  });
  if (created.credential === undefined) throw new Error("no credential");
  await options.member.credentials.save(created.credential);
}
