/**
 * A minimal member's app for enclave tests: attests the enclave, enrolls a vault through
 * ProvisioningService (as the backend would relay it), and makes sealed typed calls. The password
 * "hash" is 32 random bytes with valid Argon2id parameters: the vault compares hashes and checks
 * the parameters, it never recomputes Argon2id, so tests need not spend 64 MiB per hash (the
 * SDK's own tests run the real Argon2id).
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { DescService } from "@bufbuild/protobuf";
import { create, toBinary } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import type { NatsConnection } from "nats";
import { verifyAttestation } from "../../clients/sdk/attestation/index.js";
import { encryptPasswordHash } from "../../clients/sdk/password/index.js";
import type { DevNsm } from "../../enclave/nsm/index.js";
import {
  EnclaveAttestationService,
  VaultAttestationService,
} from "../../gen/vettid/attestation/v1/attestation_service_pb.js";
import { CredentialCreationMaterialSchema } from "../../gen/vettid/enrollment/v1/enrollment_pb.js";
import {
  Argon2idParametersSchema,
  CredentialService,
  type PasswordAuthorization,
  PasswordAuthorizationSchema,
  type ProteanCredential,
} from "../../gen/vettid/vault/v1/credential_pb.js";
import { ProvisioningService } from "../../gen/vettid/vault/v1/provisioning_pb.js";
import { createNatsTransport, createRequestSealer, createRpcClient } from "../../rpc/index.js";
import { hpkeSuite } from "../../rpc/sealing/hpke-suite.js";

const encoder = new TextEncoder();

/** Verifies a dev attestation document and returns the enclave's sealing key. */
export async function attestedSealingKey(
  nsm: DevNsm,
  document: Uint8Array,
  nonce: Uint8Array,
): Promise<Uint8Array> {
  const root = await nsm.rootCertificate();
  const result = await verifyAttestation(document, {
    allowDevRoot: true,
    devRootSha256: root.fingerprintSha256,
    allowAnyPcrs: true,
    expectedNonce: nonce,
  });
  if (!result.valid || result.document.publicKey === undefined) {
    throw new Error(`attestation refused: ${JSON.stringify(result.failure)}`);
  }
  return result.document.publicKey;
}

/** Valid Argon2id parameters (the vault's minimums). */
export function passwordParameters() {
  return create(Argon2idParametersSchema, {
    memoryKib: 65536,
    iterations: 3,
    parallelism: 1,
    salt: new Uint8Array(randomBytes(16)),
    outputLength: 32,
    version: 19,
  });
}

/** A member with a vault, as the tests drive it. */
export interface TestMember {
  readonly ownerGuid: string;
  readonly passwordHash: Uint8Array;
  credential: ProteanCredential;
  client<S extends DescService>(service: S): Client<S>;
  /** A PasswordAuthorization for `operation` (a challenge from the vault, then the hash). */
  authorize(operation: string, hash?: Uint8Array): Promise<PasswordAuthorization>;
}

/**
 * Enrolls a member: attestation from the enclave (as the backend gets it), material sealed to the
 * attested key, ProvisioningService.CreateCredential, then a member connection with sealed calls.
 */
export async function enrollMember(options: {
  readonly backend: NatsConnection;
  readonly member: NatsConnection;
  readonly nsm: DevNsm;
  readonly ownerGuid?: string;
}): Promise<TestMember> {
  const ownerGuid = options.ownerGuid ?? randomUUID();
  const nonce = new Uint8Array(randomBytes(32));
  const attestation = createRpcClient(
    EnclaveAttestationService,
    createNatsTransport({ connection: options.backend }),
  );
  const evidence = (await attestation.getAttestation({ nonce })).evidence;
  const key = await attestedSealingKey(
    options.nsm,
    evidence?.attestationDocument ?? new Uint8Array(),
    nonce,
  );
  const sessionId = randomUUID();
  const passwordHash = new Uint8Array(randomBytes(32));
  const material = toBinary(
    CredentialCreationMaterialSchema,
    create(CredentialCreationMaterialSchema, {
      enrollmentSessionId: sessionId,
      attestationNonce: nonce,
      passwordHash,
      passwordParameters: passwordParameters(),
    }),
  );
  const sender = await hpkeSuite.createSenderContext({
    recipientPublicKey: await hpkeSuite.kem.deserializePublicKey(key),
    info: encoder.encode("vettid-enroll-finalize-v1"),
  });
  const ciphertext = new Uint8Array(await sender.seal(material, encoder.encode(sessionId)));
  const sealed = new Uint8Array(32 + ciphertext.length);
  sealed.set(new Uint8Array(sender.enc), 0);
  sealed.set(ciphertext, 32);
  const provisioning = createRpcClient(
    ProvisioningService,
    createNatsTransport({ connection: options.backend, sealing: createRequestSealer(key) }),
  );
  const created = await provisioning.createCredential({
    enrollmentSessionId: sessionId,
    attestationNonce: nonce,
    sealedCredentialRequest: sealed,
    ownerGuid,
  });
  if (created.credential === undefined) throw new Error("no credential");
  return memberSession({
    ...options,
    ownerGuid,
    sealingKey: key,
    passwordHash,
    credential: created.credential,
  });
}

/** A member session over an existing vault (after enrollment, or again after a restart). */
export function memberSession(options: {
  readonly member: NatsConnection;
  readonly ownerGuid: string;
  readonly sealingKey: Uint8Array;
  readonly passwordHash: Uint8Array;
  readonly credential: ProteanCredential;
}): TestMember {
  const transport = createNatsTransport({
    connection: options.member,
    subjectValues: { owner_guid: options.ownerGuid },
    sealing: createRequestSealer(options.sealingKey),
    defaultTimeoutMs: 10_000,
  });
  const member: TestMember = {
    ownerGuid: options.ownerGuid,
    passwordHash: options.passwordHash,
    credential: options.credential,
    client: (service) => createRpcClient(service, transport),
    async authorize(operation, hash = options.passwordHash) {
      const challenge = await member
        .client(CredentialService)
        .startPasswordChallenge({ operation });
      const utk = challenge.utk;
      if (utk === undefined) throw new Error("no UTK");
      return create(PasswordAuthorizationSchema, {
        challengeId: challenge.challengeId,
        utkId: utk.utkId,
        ...encryptPasswordHash(hash, utk.publicKey, challenge.challengeId),
        credential: member.credential,
      });
    },
  };
  return member;
}

/** The sealing key an app fetches after a restart (VaultAttestationService, unsealed). */
export async function fetchVaultSealingKey(
  member: NatsConnection,
  ownerGuid: string,
  nsm: DevNsm,
): Promise<Uint8Array> {
  const nonce = new Uint8Array(randomBytes(32));
  const client = createRpcClient(
    VaultAttestationService,
    createNatsTransport({ connection: member, subjectValues: { owner_guid: ownerGuid } }),
  );
  const evidence = (await client.getVaultAttestation({ nonce })).evidence;
  return attestedSealingKey(nsm, evidence?.attestationDocument ?? new Uint8Array(), nonce);
}
