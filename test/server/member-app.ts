/**
 * What a member's app does in the enrollment and credential flows (enrollment.proto,
 * device.proto), written out for the tests: a hardware-like P-256 device key, device proofs,
 * verifying the enclave's attestation document and sealing the credential material to its key.
 * The reference SDK will carry the same steps for apps.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import type { Client, Transport } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import { createUser, type KeyPair } from "@nats-io/nkeys";
import { p256 } from "@noble/curves/nist.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import {
  type AttestationTrustStore,
  verifyAttestation,
} from "../../clients/sdk/attestation/index.js";
import { CredentialBackupService } from "../../gen/vettid/backup/v1/credential_backup_pb.js";
import {
  type DeviceAttestation,
  DeviceAttestationPlatform,
  DeviceAttestationSchema,
  type DeviceProof,
  DeviceProofPayloadSchema,
  DeviceProofPurpose,
  DeviceProofSchema,
} from "../../gen/vettid/enrollment/v1/device_pb.js";
import {
  CredentialCreationMaterialSchema,
  EnrollmentService,
  type EnrollStartResponse,
} from "../../gen/vettid/enrollment/v1/enrollment_pb.js";
import { MemberCredentialService } from "../../gen/vettid/enrollment/v1/member_credential_pb.js";
import type { NatsCredentials } from "../../gen/vettid/enrollment/v1/nats_credentials_pb.js";
import type { ProteanCredential } from "../../gen/vettid/vault/v1/credential_pb.js";
import { hpkeSuite } from "../../rpc/sealing/hpke-suite.js";
import { deviceProofMessage } from "../../server/enrollment/index.js";

/** The three HTTP services as an app calls them. */
export interface AppClients {
  readonly enrollment: Client<typeof EnrollmentService>;
  readonly credentials: Client<typeof MemberCredentialService>;
  readonly backups: Client<typeof CredentialBackupService>;
}

/** Clients of the three services over one transport. */
export function appClients(transport: Transport): AppClients {
  return {
    enrollment: createClient(EnrollmentService, transport),
    credentials: createClient(MemberCredentialService, transport),
    backups: createClient(CredentialBackupService, transport),
  };
}

/** A phone's device key (the test holds the private half, as the Secure Enclave would). */
export class TestDevice {
  readonly publicKey: Uint8Array;
  private constructor(
    private readonly secretKey: Uint8Array,
    private readonly clock: () => number,
  ) {
    this.publicKey = p256.getPublicKey(secretKey, false);
  }

  /** A new device key; its proofs carry `clock()` as their signing time. */
  static create(clock: () => number = Date.now): TestDevice {
    return new TestDevice(p256.utils.randomSecretKey(), clock);
  }

  /** A development device's attestation (no platform token). */
  attestation(): DeviceAttestation {
    return create(DeviceAttestationSchema, {
      platform: DeviceAttestationPlatform.DEV_UNATTESTED,
      devicePublicKey: this.publicKey,
    });
  }

  /** A device proof for one request (device.proto, "vettid-device-proof-v1"). */
  proof(
    purpose: DeviceProofPurpose,
    subjectId: string,
    requestDigest: Uint8Array,
    options: { readonly signedAtMs?: number; readonly nonce?: Uint8Array } = {},
  ): DeviceProof {
    const payload = toBinary(
      DeviceProofPayloadSchema,
      create(DeviceProofPayloadSchema, {
        purpose,
        subjectId,
        requestDigest,
        signedAtMs: BigInt(options.signedAtMs ?? this.clock()),
        nonce: options.nonce ?? randomBytes(16),
      }),
    );
    const signature = p256.sign(deviceProofMessage(payload), this.secretKey, {
      format: "der",
      prehash: true,
    });
    return create(DeviceProofSchema, { payload, signature });
  }
}

/** SHA-256 of a string, as nkey proofs digest the nkey. */
export function digestText(text: string): Uint8Array {
  return sha256(new TextEncoder().encode(text));
}

/**
 * Verifies the enrollment attestation as the app must (chain, PCRs, the session's nonce) and
 * returns the enclave key it attests.
 */
export function verifiedEnclaveKey(
  start: EnrollStartResponse,
  trust: AttestationTrustStore,
): Uint8Array {
  const result = verifyAttestation(start.attestationDocument, {
    ...trust,
    expectedNonce: start.attestationNonce,
    requirePublicKey: true,
  });
  if (!result.valid) throw new Error(`the enclave's attestation did not verify: ${result.detail}`);
  return result.document.publicKey ?? new Uint8Array();
}

/**
 * The app's sealed CredentialCreationMaterial ("vettid-enroll-finalize-v1"). The password hash is
 * random bytes standing for Argon2id's output: the enclave stores it, and computing Argon2id with
 * 64 MiB here would only slow the tests.
 */
export async function sealMaterial(
  enclaveKey: Uint8Array,
  sessionId: string,
  nonce: Uint8Array,
  overrides: { readonly memoryKib?: number } = {},
): Promise<Uint8Array> {
  const material = toBinary(
    CredentialCreationMaterialSchema,
    create(CredentialCreationMaterialSchema, {
      enrollmentSessionId: sessionId,
      attestationNonce: nonce,
      passwordHash: randomBytes(32),
      passwordParameters: {
        memoryKib: overrides.memoryKib ?? 65536,
        iterations: 3,
        parallelism: 1,
        salt: randomBytes(16),
        outputLength: 32,
        version: 19,
      },
    }),
  );
  const { enc, ct } = await hpkeSuite.seal(
    {
      recipientPublicKey: await hpkeSuite.kem.deserializePublicKey(enclaveKey),
      info: new TextEncoder().encode("vettid-enroll-finalize-v1"),
    },
    material,
    new TextEncoder().encode(sessionId),
  );
  return new Uint8Array([...new Uint8Array(enc), ...new Uint8Array(ct)]);
}

/** An enrolled member as its device holds it. */
export interface EnrolledMember {
  readonly ownerGuid: string;
  readonly sessionId: string;
  readonly device: TestDevice;
  readonly nkey: KeyPair;
  readonly credential: ProteanCredential;
  readonly nats: NatsCredentials;
}

/** The whole enrollment, as enrollment.proto's flow: start, verify, seal, finalize, bootstrap. */
export async function enrollMember(
  clients: AppClients,
  invitationCode: string,
  trust: AttestationTrustStore,
  device: TestDevice = TestDevice.create(),
): Promise<EnrolledMember> {
  const start = await clients.enrollment.enrollStart({
    invitationCode,
    deviceAttestation: device.attestation(),
  });
  const sessionId = start.enrollmentSessionId;
  const key = verifiedEnclaveKey(start, trust);
  const sealed = await sealMaterial(key, sessionId, start.attestationNonce);
  const finalized = await clients.enrollment.enrollFinalize({
    enrollmentSessionId: sessionId,
    sealedCredentialRequest: sealed,
    deviceProof: device.proof(DeviceProofPurpose.ENROLL_FINALIZE, sessionId, sha256(sealed)),
  });
  const nkey = createUser();
  const bootstrap = await clients.enrollment.natsBootstrap({
    enrollmentSessionId: sessionId,
    userNkeyPublic: nkey.getPublicKey(),
    deviceProof: device.proof(
      DeviceProofPurpose.NATS_BOOTSTRAP,
      sessionId,
      digestText(nkey.getPublicKey()),
    ),
  });
  const credential = finalized.credential;
  const nats = bootstrap.credentials;
  if (credential === undefined || nats === undefined)
    throw new Error("enrollment returned nothing");
  return { ownerGuid: finalized.ownerGuid, sessionId, device, nkey, credential, nats };
}
