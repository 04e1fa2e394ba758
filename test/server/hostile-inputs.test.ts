/**
 * Malformed, oversized and hostile inputs to every endpoint, through the local HTTP server and the
 * Lambda adapter: each is answered with a 4xx, a machine-readable Connect code and a readable
 * message (never a 500, never a stack), and nothing is written to any table.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { createUser } from "@nats-io/nkeys";
import { sha256 } from "@noble/hashes/sha2.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeviceProofPurpose, DeviceProofSchema } from "../../gen/vettid/enrollment/v1/device_pb.js";
import {
  type BackendFixture,
  type RawRequest,
  startBackendFixture,
  TARGETS,
} from "./backend-fixture.js";
import { type EnrolledMember, enrollMember, TestDevice } from "./member-app.js";

let fixture: BackendFixture;
let member: EnrolledMember;
let code: string;

const ENROLL = "/vettid.enrollment.v1.EnrollmentService";
const CREDENTIALS = "/vettid.enrollment.v1.MemberCredentialService";
const BACKUP = "/vettid.backup.v1.CredentialBackupService";
const PROCEDURES = [
  `${ENROLL}/EnrollStart`,
  `${ENROLL}/EnrollFinalize`,
  `${ENROLL}/NatsBootstrap`,
  `${CREDENTIALS}/RefreshNatsCredentials`,
  `${BACKUP}/UploadCredentialBackup`,
  `${BACKUP}/RequestRecovery`,
  `${BACKUP}/CancelRecovery`,
  `${BACKUP}/DownloadCredentialBackup`,
];

beforeAll(async () => {
  fixture = await startBackendFixture();
  code = await fixture.invite();
  member = await enrollMember(
    fixture.clients("local"),
    await fixture.invite(),
    fixture.enclave.trust,
  );
});
afterAll(async () => {
  await fixture?.close();
});

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const json = (body: unknown): RawRequest["body"] => JSON.stringify(body);
const JSON_HEADERS: Record<string, string> = { "content-type": "application/json" };

/** A proof's JSON form, for requests built by hand. */
function proofJson(proof: ReturnType<TestDevice["proof"]>) {
  return { payload: b64(proof.payload), signature: b64(proof.signature) };
}

interface Case {
  readonly name: string;
  readonly request: RawRequest;
  /** The Connect code expected, and a piece of the message. */
  readonly code: string;
  readonly message: string;
  readonly status?: number;
}

/** Inputs no well-behaved client sends; none of them may write anything. */
function malformedCases(): Case[] {
  const device = TestDevice.create();
  const seed = new TextDecoder().decode(createUser().getSeed());
  const uuid = crypto.randomUUID();
  const cases: Case[] = [];
  const post = (path: string, body: unknown, headers = JSON_HEADERS) => ({
    path,
    headers,
    body: typeof body === "string" || body instanceof Uint8Array ? body : json(body),
  });
  for (const path of PROCEDURES) {
    const name = path.split("/").pop() ?? path;
    cases.push(
      {
        name: `${name}: invalid JSON`,
        request: post(path, "{"),
        code: "invalid_argument",
        message: "cannot decode",
      },
      {
        name: `${name}: a JSON array`,
        request: post(path, "[]"),
        code: "invalid_argument",
        message: "cannot decode",
      },
      {
        name: `${name}: an unknown field`,
        request: post(path, { nope: 1 }),
        code: "invalid_argument",
        message: "nope",
      },
      {
        name: `${name}: protobuf garbage`,
        request: post(path, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x0a]), {
          "content-type": "application/proto",
        }),
        code: "invalid_argument",
        message: "cannot decode",
      },
      {
        name: `${name}: text/plain`,
        request: post(path, "{}", { "content-type": "text/plain" }),
        code: "invalid_argument",
        message: "content-type must be application/json or application/proto",
        status: 415,
      },
      {
        name: `${name}: gzip`,
        request: post(path, "{}", {
          "content-type": "application/json",
          "content-encoding": "gzip",
        }),
        code: "invalid_argument",
        message: "not accepted",
        status: 415,
      },
      {
        name: `${name}: GET`,
        request: { method: "GET", path },
        code: "invalid_argument",
        message: "use POST",
        status: 405,
      },
      {
        name: `${name}: a body over the limit`,
        request: post(path, json({ invitationCode: "A".repeat(200_000) })),
        code: "resource_exhausted",
        message: "at most 131072 bytes",
        status: 413,
      },
      {
        name: `${name}: a bad deadline`,
        request: {
          ...post(path, "{}"),
          headers: { ...JSON_HEADERS, "connect-timeout-ms": "soon" },
        },
        code: "invalid_argument",
        message: "timeout",
      },
    );
  }
  cases.push(
    {
      name: "unknown path",
      request: post("/vettid.enrollment.v1.EnrollmentService/Nope", "{}"),
      code: "not_found",
      message: "no procedure",
      status: 404,
    },
    {
      name: "path traversal",
      request: post("/../../etc/passwd", "{}"),
      code: "not_found",
      message: "no procedure",
      status: 404,
    },
    {
      name: "EnrollStart: no code",
      request: post(PROCEDURES[0] ?? "", {
        deviceAttestation: { platform: 3, devicePublicKey: b64(device.publicKey) },
      }),
      code: "invalid_argument",
      message: "invitation_code is required",
    },
    {
      name: "EnrollStart: a code with a dot",
      request: post(PROCEDURES[0] ?? "", {
        invitationCode: "ABCD.EFGH.IJK",
        deviceAttestation: { platform: 3, devicePublicKey: b64(device.publicKey) },
      }),
      code: "invalid_argument",
      message: "invitation_code must be",
    },
    {
      name: "EnrollStart: no device",
      request: post(PROCEDURES[0] ?? "", { invitationCode: code }),
      code: "invalid_argument",
      message: "device_attestation is required",
    },
    {
      name: "EnrollStart: short key",
      request: post(PROCEDURES[0] ?? "", {
        invitationCode: code,
        deviceAttestation: { platform: 3, devicePublicKey: b64(device.publicKey.slice(0, 33)) },
      }),
      code: "invalid_argument",
      message: "uncompressed P-256 point",
    },
    {
      name: "EnrollStart: not a curve point",
      request: post(PROCEDURES[0] ?? "", {
        invitationCode: code,
        deviceAttestation: { platform: 3, devicePublicKey: b64(new Uint8Array(65).fill(4)) },
      }),
      code: "invalid_argument",
      message: "not a point on P-256",
    },
    {
      name: "EnrollStart: unknown platform",
      request: post(PROCEDURES[0] ?? "", {
        invitationCode: code,
        deviceAttestation: { platform: 99, devicePublicKey: b64(device.publicKey) },
      }),
      code: "invalid_argument",
      message: "platform must be",
    },
    {
      name: "EnrollStart: a token on an unattested device",
      request: post(PROCEDURES[0] ?? "", {
        invitationCode: code,
        deviceAttestation: {
          platform: 3,
          token: b64(new Uint8Array(8)),
          devicePublicKey: b64(device.publicKey),
        },
      }),
      code: "invalid_argument",
      message: "token must be empty",
    },
    {
      name: "EnrollStart: a 17 KiB token",
      request: post(PROCEDURES[0] ?? "", {
        invitationCode: code,
        deviceAttestation: {
          platform: 1,
          token: b64(new Uint8Array(17 * 1024)),
          devicePublicKey: b64(device.publicKey),
        },
      }),
      code: "invalid_argument",
      message: "at most 16384",
    },
    {
      name: "EnrollFinalize: a session id that is not a uuid",
      request: post(PROCEDURES[1] ?? "", {
        enrollmentSessionId: "../x",
        sealedCredentialRequest: b64(new Uint8Array(64)),
        deviceProof: proofJson(device.proof(1, "x", new Uint8Array(32))),
      }),
      code: "invalid_argument",
      message: "enrollment_session_id must be a lowercase UUID",
    },
    {
      name: "EnrollFinalize: an upper-case uuid",
      request: post(PROCEDURES[1] ?? "", {
        enrollmentSessionId: uuid.toUpperCase(),
        sealedCredentialRequest: b64(new Uint8Array(64)),
        deviceProof: proofJson(device.proof(1, uuid, new Uint8Array(32))),
      }),
      code: "invalid_argument",
      message: "lowercase UUID",
    },
    {
      name: "EnrollFinalize: no proof",
      request: post(PROCEDURES[1] ?? "", {
        enrollmentSessionId: uuid,
        sealedCredentialRequest: b64(new Uint8Array(64)),
      }),
      code: "invalid_argument",
      message: "device_proof is required",
    },
    {
      name: "EnrollFinalize: sealed material over 4 KiB",
      request: post(PROCEDURES[1] ?? "", {
        enrollmentSessionId: uuid,
        sealedCredentialRequest: b64(new Uint8Array(5000)),
        deviceProof: proofJson(device.proof(1, uuid, new Uint8Array(32))),
      }),
      code: "invalid_argument",
      message: "sealed_credential_request must be 49 to 4096 bytes",
    },
    {
      name: "EnrollFinalize: an oversized signature",
      request: post(PROCEDURES[1] ?? "", {
        enrollmentSessionId: uuid,
        sealedCredentialRequest: b64(new Uint8Array(64)),
        deviceProof: { payload: b64(new Uint8Array(10)), signature: b64(new Uint8Array(100)) },
      }),
      code: "invalid_argument",
      message: "at most 72",
    },
    {
      name: "EnrollFinalize: an oversized proof payload",
      request: post(PROCEDURES[1] ?? "", {
        enrollmentSessionId: uuid,
        sealedCredentialRequest: b64(new Uint8Array(64)),
        deviceProof: { payload: b64(new Uint8Array(2000)), signature: b64(new Uint8Array(70)) },
      }),
      code: "invalid_argument",
      message: "at most 1024",
    },
    {
      name: "NatsBootstrap: a seed instead of a public key",
      request: post(PROCEDURES[2] ?? "", {
        enrollmentSessionId: uuid,
        userNkeyPublic: seed,
        deviceProof: proofJson(device.proof(2, uuid, new Uint8Array(32))),
      }),
      code: "invalid_argument",
      message: "is a seed",
    },
    {
      name: "NatsBootstrap: a wildcard nkey",
      request: post(PROCEDURES[2] ?? "", {
        enrollmentSessionId: uuid,
        userNkeyPublic: "U>",
        deviceProof: proofJson(device.proof(2, uuid, new Uint8Array(32))),
      }),
      code: "invalid_argument",
      message: "user_nkey_public",
    },
    {
      name: "Refresh: an owner guid with a wildcard",
      request: post(PROCEDURES[3] ?? "", {
        ownerGuid: "*",
        userNkeyPublic: createUser().getPublicKey(),
        deviceProof: proofJson(device.proof(3, "*", new Uint8Array(32))),
      }),
      code: "invalid_argument",
      message: "owner_guid",
    },
    {
      name: "Upload: backup over 64 KiB",
      request: post(PROCEDURES[4] ?? "", {
        ownerGuid: member.ownerGuid,
        encryptedBackup: b64(new Uint8Array(65 * 1024)),
        backupVersion: "2",
        checksum: b64(sha256(new Uint8Array(65 * 1024))),
        deviceProof: proofJson(device.proof(4, member.ownerGuid, new Uint8Array(32))),
      }),
      code: "invalid_argument",
      message: "encrypted_backup must be 1 to 65536 bytes",
    },
    {
      name: "Upload: a checksum that does not match",
      request: post(PROCEDURES[4] ?? "", {
        ownerGuid: member.ownerGuid,
        encryptedBackup: b64(new Uint8Array(10)),
        backupVersion: "2",
        checksum: b64(new Uint8Array(32)),
        deviceProof: proofJson(device.proof(4, member.ownerGuid, new Uint8Array(32))),
      }),
      code: "invalid_argument",
      message: "checksum is not the SHA-256",
    },
    {
      name: "Upload: version 0",
      request: post(PROCEDURES[4] ?? "", {
        ownerGuid: member.ownerGuid,
        encryptedBackup: b64(new Uint8Array(10)),
        backupVersion: "0",
        checksum: b64(sha256(new Uint8Array(10))),
        deviceProof: proofJson(device.proof(4, member.ownerGuid, new Uint8Array(32))),
      }),
      code: "invalid_argument",
      message: "backup_version must be",
    },
    {
      name: "Upload: an empty backup",
      request: post(PROCEDURES[4] ?? "", {
        ownerGuid: member.ownerGuid,
        backupVersion: "2",
        checksum: b64(sha256(new Uint8Array())),
        deviceProof: proofJson(device.proof(4, member.ownerGuid, new Uint8Array(32))),
      }),
      code: "invalid_argument",
      message: "encrypted_backup is required",
    },
    {
      name: "RequestRecovery: no sign-in",
      request: post(PROCEDURES[5] ?? "", {
        newDevice: { platform: 3, devicePublicKey: b64(device.publicKey) },
      }),
      code: "unauthenticated",
      message: "Authorization: Bearer",
    },
    {
      name: "RequestRecovery: a forged sign-in",
      request: {
        ...post(PROCEDURES[5] ?? "", {
          newDevice: { platform: 3, devicePublicKey: b64(device.publicKey) },
        }),
        headers: {
          ...JSON_HEADERS,
          authorization: `Bearer dev1.${member.ownerGuid}.${"0".repeat(64)}`,
        },
      },
      code: "unauthenticated",
      message: "not valid",
    },
    {
      name: "CancelRecovery: neither proof nor token",
      request: post(PROCEDURES[6] ?? "", { recoveryId: uuid }),
      code: "invalid_argument",
      message: "one of device_proof or cancel_token is required",
    },
    {
      name: "CancelRecovery: a short cancel token",
      request: post(PROCEDURES[6] ?? "", {
        recoveryId: uuid,
        cancelToken: b64(new Uint8Array(31)),
      }),
      code: "invalid_argument",
      message: "cancel_token must be exactly 32 bytes",
    },
    {
      name: "Download: a recovery id that is not a uuid",
      request: post(PROCEDURES[7] ?? "", {
        recoveryId: "1 OR 1=1",
        deviceProof: proofJson(device.proof(5, "x", new Uint8Array())),
      }),
      code: "invalid_argument",
      message: "recovery_id must be a lowercase UUID",
    },
  );
  return cases;
}

/** Well-formed requests that must be refused: forged proofs, unknown ids, another member. */
function hostileCases(): Case[] {
  const stranger = TestDevice.create();
  const nkey = createUser().getPublicKey();
  const unknownId = crypto.randomUUID();
  const forged = stranger.proof(
    DeviceProofPurpose.NATS_REFRESH,
    member.ownerGuid,
    sha256(new TextEncoder().encode(nkey)),
  );
  const flipped = create(DeviceProofSchema, {
    ...forged,
    signature: forged.signature.map((b, i) => (i === 10 ? b ^ 1 : b)),
  });
  const post = (path: string, body: unknown) => ({ path, headers: JSON_HEADERS, body: json(body) });
  return [
    {
      name: "EnrollStart: an unknown code",
      request: post(PROCEDURES[0] ?? "", {
        invitationCode: "ZZZZ-ZZZZ-ZZZZ",
        deviceAttestation: { platform: 3, devicePublicKey: b64(stranger.publicKey) },
      }),
      code: "not_found",
      message: "unknown, used or expired",
    },
    {
      name: "EnrollStart: Play Integrity this backend cannot verify",
      request: post(PROCEDURES[0] ?? "", {
        invitationCode: code,
        deviceAttestation: {
          platform: 1,
          token: b64(new TextEncoder().encode("eyJhbGciOi.fake.token")),
          devicePublicKey: b64(stranger.publicKey),
        },
      }),
      code: "permission_denied",
      message: "cannot be verified",
    },
    {
      name: "EnrollFinalize: an unknown session",
      request: post(PROCEDURES[1] ?? "", {
        enrollmentSessionId: unknownId,
        sealedCredentialRequest: b64(new Uint8Array(64)),
        deviceProof: proofJson(stranger.proof(1, unknownId, new Uint8Array(32))),
      }),
      code: "not_found",
      message: "no enrollment session",
    },
    {
      name: "EnrollFinalize: another member's finished session",
      request: post(PROCEDURES[1] ?? "", {
        enrollmentSessionId: member.sessionId,
        sealedCredentialRequest: b64(new Uint8Array(64)),
        deviceProof: proofJson(stranger.proof(1, member.sessionId, sha256(new Uint8Array(64)))),
      }),
      code: "permission_denied",
      message: "not by the device key",
    },
    {
      name: "NatsBootstrap: a stranger on a member's session",
      request: post(PROCEDURES[2] ?? "", {
        enrollmentSessionId: member.sessionId,
        userNkeyPublic: nkey,
        deviceProof: proofJson(
          stranger.proof(2, member.sessionId, sha256(new TextEncoder().encode(nkey))),
        ),
      }),
      code: "permission_denied",
      message: "not by the device key",
    },
    {
      name: "Refresh: a forged proof",
      request: post(PROCEDURES[3] ?? "", {
        ownerGuid: member.ownerGuid,
        userNkeyPublic: nkey,
        deviceProof: proofJson(forged),
      }),
      code: "permission_denied",
      message: "not by the device key",
    },
    {
      name: "Refresh: a flipped signature bit",
      request: post(PROCEDURES[3] ?? "", {
        ownerGuid: member.ownerGuid,
        userNkeyPublic: nkey,
        deviceProof: proofJson(flipped),
      }),
      code: "permission_denied",
      message: "device_proof refused",
    },
    {
      name: "Refresh: an unknown member",
      request: post(PROCEDURES[3] ?? "", {
        ownerGuid: unknownId,
        userNkeyPublic: nkey,
        deviceProof: proofJson(
          stranger.proof(3, unknownId, sha256(new TextEncoder().encode(nkey))),
        ),
      }),
      code: "not_found",
      message: "no member",
    },
    {
      name: "Upload: a stranger's backup for a member",
      request: post(PROCEDURES[4] ?? "", {
        ownerGuid: member.ownerGuid,
        encryptedBackup: b64(new Uint8Array(10)),
        backupVersion: "9",
        checksum: b64(sha256(new Uint8Array(10))),
        deviceProof: proofJson(stranger.proof(4, member.ownerGuid, sha256(new Uint8Array(10)))),
      }),
      code: "permission_denied",
      message: "not by the device key",
    },
    {
      name: "CancelRecovery: an unknown recovery",
      request: post(PROCEDURES[6] ?? "", {
        recoveryId: unknownId,
        cancelToken: b64(new Uint8Array(32)),
      }),
      code: "not_found",
      message: "no recovery",
    },
    {
      name: "Download: an unknown recovery",
      request: post(PROCEDURES[7] ?? "", {
        recoveryId: unknownId,
        deviceProof: proofJson(stranger.proof(5, unknownId, new Uint8Array())),
      }),
      code: "not_found",
      message: "no recovery",
    },
    {
      name: "Refresh: a payload that is not a proof payload",
      request: post(PROCEDURES[3] ?? "", {
        ownerGuid: member.ownerGuid,
        userNkeyPublic: nkey,
        deviceProof: proofJson(
          create(DeviceProofSchema, {
            payload: toBinary(DeviceProofSchema, forged),
            signature: forged.signature,
          }),
        ),
      }),
      code: "permission_denied",
      message: "device_proof refused",
    },
  ];
}

function expectClearRefusal(
  testCase: Case,
  response: { status: number; text: string; headers: Headers },
) {
  expect(response.status, `${testCase.name}: ${response.text}`).toBeGreaterThanOrEqual(400);
  expect(response.status, testCase.name).toBeLessThan(500);
  if (testCase.status !== undefined) expect(response.status, testCase.name).toBe(testCase.status);
  expect(response.headers.get("content-type"), testCase.name).toMatch(/^application\/json/);
  const body = JSON.parse(response.text) as { code?: unknown; message?: unknown };
  expect(body.code, testCase.name).toBe(testCase.code);
  expect(typeof body.message === "string" && body.message.length > 0, testCase.name).toBe(true);
  expect(String(body.message), testCase.name).toContain(testCase.message);
  expect(String(body.message).length, testCase.name).toBeLessThan(600);
  expect(response.text, testCase.name).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
}

describe.each(TARGETS)("bad input through the %s adapter", (target) => {
  it("malformed and oversized requests to every endpoint: clear 4xx, nothing written anywhere", async () => {
    const before = await fixture.snapshot();
    for (const testCase of malformedCases()) {
      expectClearRefusal(testCase, await fixture.raw(target, testCase.request));
    }
    expect(await fixture.snapshot()).toBe(before);
  });

  it("well-formed hostile requests: clear 4xx, no data written (only rate-limit counters move)", async () => {
    const tables = [
      "members",
      "enrollmentSessions",
      "invitations",
      "natsTokens",
      "revocations",
      "natsAccounts",
      "deviceProofNonces",
      "credentialBackups",
      "controlAudit",
    ] as const;
    const before = await fixture.snapshot(tables);
    for (const testCase of hostileCases()) {
      expectClearRefusal(testCase, await fixture.raw(target, testCase.request));
    }
    expect(await fixture.snapshot(tables)).toBe(before);
  });
});
