import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AttestationTrustStore } from "../../clients/sdk/attestation/index.js";
import { ENROLL_STEPS, EnrollmentError, enroll } from "../../clients/sdk/enrollment/index.js";
import { createMemberStore, type MemberStore } from "../../clients/sdk/member/index.js";
import { connectMember, openVaultSession } from "../../clients/sdk/session/index.js";
import { createFileSecureStorage } from "../../clients/sdk/storage/index.js";
import { VerificationFailure } from "../../gen/vettid/attestation/v1/document_pb.js";
import { PcrSetSchema } from "../../gen/vettid/attestation/v1/pcr_pb.js";
import { EnrollmentService } from "../../gen/vettid/enrollment/v1/enrollment_pb.js";
import { BootstrapNextStep } from "../../gen/vettid/vault/v1/bootstrap_pb.js";
import { SecretProtection, SecretsService } from "../../gen/vettid/vault/v1/secrets_pb.js";
import { type EnclaveStack, startEnclaveStack } from "../support/enclave-stack.js";
import { INVITATION, standInEnrollmentService } from "./stand-in-enrollment.js";
import { stackTrust } from "./vault-fixture.js";

const PASSWORD = "the password chosen at enrollment";

let stack: EnclaveStack;
let directory: string;
let trust: AttestationTrustStore;
const problems: string[] = [];

function backendTransport() {
  return createRouterTransport(({ service }) => {
    service(EnrollmentService, standInEnrollmentService(stack, problems));
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
