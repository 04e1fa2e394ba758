/**
 * The SDK's `enroll` flow against the real enclave side. The backend's EnrollmentService is stood
 * in for by a small in-process Connect service (createRouterTransport) that does what
 * enrollment.proto says the backend does: asks the enclave for an attestation bound to a fresh
 * nonce, checks the device proofs (independently, with node:crypto), relays the sealed material
 * unread to ProvisioningService.CreateCredential, and issues NATS credentials. Then the member
 * opens a vault session, sets the PIN and proves the password chosen at enrollment.
 */
import { createHash, createPublicKey, randomUUID, verify } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AttestationTrustStore } from "../../clients/sdk/attestation/index.js";
import { ENROLL_STEPS, EnrollmentError, enroll } from "../../clients/sdk/enrollment/index.js";
import { createMemberStore, type MemberStore } from "../../clients/sdk/member/index.js";
import { connectMember, openVaultSession } from "../../clients/sdk/session/index.js";
import { createFileSecureStorage } from "../../clients/sdk/storage/index.js";
import { EnclaveAttestationService } from "../../gen/vettid/attestation/v1/attestation_service_pb.js";
import { VerificationFailure } from "../../gen/vettid/attestation/v1/document_pb.js";
import { PcrSetSchema } from "../../gen/vettid/attestation/v1/pcr_pb.js";
import {
  DeviceAttestationPlatform,
  type DeviceProof,
  DeviceProofPayloadSchema,
  DeviceProofPurpose,
} from "../../gen/vettid/enrollment/v1/device_pb.js";
import {
  EnrollmentService,
  VaultInfoSchema,
} from "../../gen/vettid/enrollment/v1/enrollment_pb.js";
import { NatsCredentialsSchema } from "../../gen/vettid/enrollment/v1/nats_credentials_pb.js";
import { BootstrapNextStep } from "../../gen/vettid/vault/v1/bootstrap_pb.js";
import { ProvisioningService } from "../../gen/vettid/vault/v1/provisioning_pb.js";
import { SecretProtection, SecretsService } from "../../gen/vettid/vault/v1/secrets_pb.js";
import { createNatsTransport, createRequestSealer, createRpcClient } from "../../rpc/index.js";
import { type EnclaveStack, startEnclaveStack } from "../support/enclave-stack.js";
import { stackTrust } from "./vault-fixture.js";

const INVITATION = "TEST-INVITE-0001";
const PASSWORD = "the password chosen at enrollment";

let stack: EnclaveStack;
let directory: string;
let trust: AttestationTrustStore;
const problems: string[] = [];

/** Checks a device proof as device.proto says the backend does (node:crypto, not the SDK). */
function checkProof(
  proof: DeviceProof | undefined,
  devicePublicKey: Uint8Array,
  expected: { purpose: DeviceProofPurpose; subjectId: string; digest: Uint8Array },
) {
  if (proof === undefined) throw new ConnectError("no device proof", Code.PermissionDenied);
  const key = createPublicKey({
    key: {
      kty: "EC",
      crv: "P-256",
      x: Buffer.from(devicePublicKey.subarray(1, 33)).toString("base64url"),
      y: Buffer.from(devicePublicKey.subarray(33)).toString("base64url"),
    },
    format: "jwk",
  });
  const message = Buffer.concat([Buffer.from("vettid-device-proof-v1\0"), proof.payload]);
  if (!verify("sha256", message, { key, dsaEncoding: "der" }, proof.signature)) {
    throw new ConnectError("device proof signature", Code.PermissionDenied);
  }
  const payload = fromBinary(DeviceProofPayloadSchema, proof.payload);
  if (
    payload.purpose !== expected.purpose ||
    payload.subjectId !== expected.subjectId ||
    !Buffer.from(payload.requestDigest).equals(Buffer.from(expected.digest)) ||
    payload.nonce.length !== 16 ||
    Math.abs(Number(payload.signedAtMs) - Date.now()) > 5 * 60_000
  ) {
    problems.push(`bad proof ${JSON.stringify(payload.subjectId)}`);
    throw new ConnectError("device proof content", Code.PermissionDenied);
  }
}

function backendTransport() {
  const sessions = new Map<
    string,
    { nonce: Uint8Array; devicePublicKey: Uint8Array; key?: Uint8Array; ownerGuid?: string }
  >();
  return createRouterTransport(({ service }) => {
    service(EnrollmentService, {
      async enrollStart(request) {
        if (request.invitationCode !== INVITATION)
          throw new ConnectError("unknown invitation", Code.NotFound);
        const attestation = request.deviceAttestation;
        if (
          attestation?.platform !== DeviceAttestationPlatform.DEV_UNATTESTED ||
          attestation.devicePublicKey.length !== 65
        ) {
          throw new ConnectError("device attestation", Code.PermissionDenied);
        }
        const nonce = crypto.getRandomValues(new Uint8Array(32));
        const backend = await stack.connect();
        const { evidence } = await createRpcClient(
          EnclaveAttestationService,
          createNatsTransport({ connection: backend }),
        ).getAttestation({ nonce });
        const id = randomUUID();
        sessions.set(id, {
          nonce,
          devicePublicKey: attestation.devicePublicKey,
          key: evidence?.sealingPublicKey,
        });
        return {
          enrollmentSessionId: id,
          attestationDocument: evidence?.attestationDocument,
          attestationNonce: nonce,
          sessionExpiresAtMs: BigInt(Date.now() + 15 * 60_000),
        };
      },
      async enrollFinalize(request) {
        const session = sessions.get(request.enrollmentSessionId);
        if (session?.key === undefined) throw new ConnectError("no session", Code.NotFound);
        checkProof(request.deviceProof, session.devicePublicKey, {
          purpose: DeviceProofPurpose.ENROLL_FINALIZE,
          subjectId: request.enrollmentSessionId,
          digest: createHash("sha256").update(request.sealedCredentialRequest).digest(),
        });
        const ownerGuid = randomUUID();
        const backend = await stack.connect();
        const created = await createRpcClient(
          ProvisioningService,
          createNatsTransport({ connection: backend, sealing: createRequestSealer(session.key) }),
        ).createCredential({
          enrollmentSessionId: request.enrollmentSessionId,
          attestationNonce: session.nonce,
          sealedCredentialRequest: request.sealedCredentialRequest,
          ownerGuid,
        });
        session.ownerGuid = ownerGuid;
        return {
          ownerGuid,
          credential: created.credential,
          vault: create(VaultInfoSchema, {
            pinSetupRequired: true,
            createdAtMs: created.createdAtMs,
          }),
        };
      },
      async natsBootstrap(request) {
        const session = sessions.get(request.enrollmentSessionId);
        if (session?.ownerGuid === undefined)
          throw new ConnectError("not finalised", Code.FailedPrecondition);
        checkProof(request.deviceProof, session.devicePublicKey, {
          purpose: DeviceProofPurpose.NATS_BOOTSTRAP,
          subjectId: request.enrollmentSessionId,
          digest: createHash("sha256").update(request.userNkeyPublic).digest(),
        });
        return {
          ownerGuid: session.ownerGuid,
          credentials: create(NatsCredentialsSchema, {
            userJwt: "issued-by-the-test-backend",
            userNkeyPublic: request.userNkeyPublic,
            serverUrls: [stack.nats.url],
            ownerSpacePrefix: `OwnerSpace.${session.ownerGuid}`,
          }),
        };
      },
    });
  });
}

async function newMember(name: string): Promise<MemberStore> {
  return createMemberStore(await createFileSecureStorage(join(directory, name)));
}

beforeAll(async () => {
  stack = await startEnclaveStack();
  directory = await mkdtemp(join(tmpdir(), "vettid-enroll-"));
  trust = await stackTrust(stack);
}, 60_000);
afterAll(async () => {
  await stack?.close();
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
});

describe("enroll", () => {
  it("creates the vault and credential, stores everything, and the password works afterwards", async () => {
    const member = await newMember("alice");
    const steps: string[] = [];
    const enrollment = await enroll({
      transport: backendTransport(),
      invitationCode: INVITATION,
      password: PASSWORD,
      member,
      trust,
      onStep: (step) => steps.push(step),
    });
    expect(steps).toEqual([...ENROLL_STEPS]);
    expect(problems).toEqual([]);
    expect(enrollment.credential.cekVersion).toBe(1n);
    expect(await member.ownerGuid()).toBe(enrollment.ownerGuid);
    expect((await member.credentials.current())?.cekVersion).toBe(1n);
    expect((await member.natsCredentials())?.userJwt).toBe("issued-by-the-test-backend");
    expect(new TextDecoder().decode(await member.nkeySeed())).toMatch(/^SU/);
    expect(await member.deviceKeySecret()).toHaveLength(32);

    const connection = await connectMember(member);
    try {
      const session = await openVaultSession({ connection, member, trust });
      expect((await session.bootstrap()).nextStep).toBe(BootstrapNextStep.SETUP_PIN);
      await session.setupPin("112233");
      const secrets = session.client(SecretsService);
      const put = await session.withPassword(
        "/vettid.vault.v1.SecretsService/PutSecret",
        PASSWORD,
        (authorization) =>
          secrets.putSecret({
            name: "proof",
            value: Uint8Array.of(1),
            protection: SecretProtection.PROTECTED,
            authorization,
          }),
      );
      expect(put.rotatedCredential?.credential?.cekVersion).toBe(2n);
    } finally {
      await connection.close();
    }
  });

  it("stops before sending anything when the enclave's build is not trusted", async () => {
    const member = await newMember("bob");
    const other = create(PcrSetSchema, {
      id: "other",
      pcrs: {
        0: new Uint8Array(48).fill(1),
        1: new Uint8Array(48).fill(2),
        2: new Uint8Array(48).fill(3),
      },
    });
    const error = await enroll({
      transport: backendTransport(),
      invitationCode: INVITATION,
      password: PASSWORD,
      member,
      trust: { ...trust, pcrSets: [other] },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnrollmentError);
    expect((error as EnrollmentError).attestationFailure).toBe(VerificationFailure.PCR_MISMATCH);
    expect(await member.credentials.current()).toBeUndefined();
    expect(await member.ownerGuid()).toBeUndefined();
  });

  it("reports the backend's not_found for an unknown invitation", async () => {
    const member = await newMember("carol");
    const error = await enroll({
      transport: backendTransport(),
      invitationCode: "NOPE-NOPE-NOPE",
      password: PASSWORD,
      member,
      trust,
    }).catch((e: unknown) => e);
    expect(ConnectError.from(error).code).toBe(Code.NotFound);
  });
});
