/**
 * The Lambda entry files themselves (`server/lambda/entries/`), as the CDK bundles them: their
 * configuration is read from environment variables at cold start, secrets from files (the
 * development form of the Secrets Manager references), and a whole enrollment runs through their
 * `handler`s against the real nats-server, dynalite and the real enclave (supervisor and parent).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, createClient, type Transport } from "@connectrpc/connect";
import { createTransport } from "@connectrpc/connect/protocol-connect";
import { fmtCreds } from "@nats-io/jwt";
import { createUser } from "@nats-io/nkeys";
import { bytesToHex } from "@noble/hashes/utils.js";
import { connect, jwtAuthenticator } from "nats";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { PcrSet } from "../../gen/vettid/attestation/v1/pcr_pb.js";
import { CredentialBackupService } from "../../gen/vettid/backup/v1/credential_backup_pb.js";
import { DeviceProofPurpose } from "../../gen/vettid/enrollment/v1/device_pb.js";
import { EnrollmentService } from "../../gen/vettid/enrollment/v1/enrollment_pb.js";
import { MemberCredentialService } from "../../gen/vettid/enrollment/v1/member_credential_pb.js";
import type { ApiGatewayHandler } from "../../server/lambda/index.js";
import { issueServiceUser } from "../../server/nats-auth/index.js";
import { failure } from "../support/failure.js";
import { type BackendFixture, lambdaHttpClient, startBackendFixture } from "./backend-fixture.js";
import { digestText, enrollMember, TestDevice } from "./member-app.js";

let fixture: BackendFixture;
let secrets: string;
const saved = { ...process.env };

function transport(handler: ApiGatewayHandler): Transport {
  return createTransport({
    httpClient: lambdaHttpClient(handler, "192.0.2.44"),
    baseUrl: "https://api.vettid.test",
    useBinaryFormat: true,
    interceptors: [],
    acceptCompression: [],
    sendCompression: null,
    compressMinBytes: Number.MAX_SAFE_INTEGER,
    readMaxBytes: 1024 * 1024,
    writeMaxBytes: 1024 * 1024,
  });
}

beforeAll(async () => {
  fixture = await startBackendFixture();
  secrets = await mkdtemp(join(tmpdir(), "vettid-secrets-"));
  const backendKey = createUser();
  const backend = await issueServiceUser({
    role: "backend",
    userPublicKey: backendKey.getPublicKey(),
    accountPublicKey: fixture.trust.account.publicKey,
    signingKey: fixture.trust.account.serviceSigningKey,
  });
  await writeFile(join(secrets, "backend.creds"), fmtCreds(backend.jwt, backendKey), {
    mode: 0o600,
  });
  await writeFile(
    join(secrets, "member-signing.seed"),
    fixture.trust.account.memberSigningKey.getSeed(),
    {
      mode: 0o600,
    },
  );
  const pcrSets = (fixture.enclave.trust.pcrSets as readonly PcrSet[]).map((set) => ({
    id: set.id,
    pcrs: Object.fromEntries(
      Object.entries(set.pcrs).map(([index, value]) => [index, bytesToHex(value)]),
    ),
  }));
  Object.assign(process.env, {
    VETTID_ENVIRONMENT: "test",
    VETTID_TABLE_MEMBERS: "vettid-test-members",
    VETTID_DYNAMODB_ENDPOINT: fixture.dynalite.endpoint,
    VETTID_NATS_URLS: fixture.nats.url,
    VETTID_NATS_ACCOUNT_PUBLIC_KEY: fixture.trust.account.publicKey,
    VETTID_SECRET_NATS_MEMBER_SIGNING_KEY_FILE: join(secrets, "member-signing.seed"),
    VETTID_SECRET_NATS_BACKEND_USER_FILE: join(secrets, "backend.creds"),
    VETTID_ENCLAVE_PCR_SETS: JSON.stringify(pcrSets),
    VETTID_DEV_ROOT_SHA256: fixture.enclave.trust.devRootSha256,
    VETTID_ALLOW_DEV_ROOT: "true",
    VETTID_ALLOW_UNATTESTED_DEVICES: "true",
    VETTID_BUCKET_BACKUPS: "vettid-test-backups",
    VETTID_BUCKET_BACKUPS_PREFIX: "credential-backups/",
    AWS_REGION: "eu-west-1",
  });
});
afterAll(async () => {
  process.env = { ...saved };
  await fixture?.close();
  await rm(secrets, { recursive: true, force: true });
});

describe("the Lambda entries", () => {
  it("enroll a member end to end, and refresh its credentials", async () => {
    const enrollment = (await import("../../server/lambda/entries/enrollment.js")).handler;
    const credentials = (await import("../../server/lambda/entries/member-credentials.js")).handler;
    const backups = (await import("../../server/lambda/entries/credential-backup.js")).handler;
    const clients = {
      enrollment: createClient(EnrollmentService, transport(enrollment)),
      credentials: createClient(MemberCredentialService, transport(credentials)),
      backups: createClient(CredentialBackupService, transport(backups)),
    };
    const member = await enrollMember(clients, await fixture.invite(), fixture.enclave.trust);
    const connection = await connect({
      servers: fixture.nats.url,
      authenticator: jwtAuthenticator(member.nats.userJwt, member.nkey.getSeed()),
    });
    await connection.close();
    const nkey = createUser().getPublicKey();
    const refreshed = await clients.credentials.refreshNatsCredentials({
      ownerGuid: member.ownerGuid,
      userNkeyPublic: nkey,
      deviceProof: member.device.proof(
        DeviceProofPurpose.NATS_REFRESH,
        member.ownerGuid,
        digestText(nkey),
      ),
    });
    expect(refreshed.credentials?.userNkeyPublic).toBe(nkey);

    // Without the development sign-in key, recovery answers unauthenticated (production gap).
    const recovery = await failure(
      clients.backups.requestRecovery(
        { newDevice: TestDevice.create().attestation() },
        { headers: { authorization: "Bearer dev1.x.y" } },
      ),
    );
    expect(recovery.code).toBe(Code.Unauthenticated);
  });

  it("refuse development options in production at cold start", async () => {
    vi.resetModules();
    const env = { ...process.env };
    process.env.VETTID_ENVIRONMENT = "prod";
    delete process.env.VETTID_TABLE_MEMBERS;
    try {
      await expect(import("../../server/lambda/entries/member-credentials.js")).rejects.toThrow(
        /VETTID_DYNAMODB_ENDPOINT is a development option and is refused in production/,
      );
      delete process.env.VETTID_DYNAMODB_ENDPOINT;
      vi.resetModules();
      await expect(import("../../server/lambda/entries/member-credentials.js")).rejects.toThrow(
        /VETTID_SECRET_NATS_MEMBER_SIGNING_KEY_FILE is a development option/,
      );
    } finally {
      process.env = env;
    }
  });
});
