/**
 * Enrollment end to end, through the local HTTP server and through the Lambda adapter: a real
 * nats-server in operator mode, dynalite, the real enclave (supervisor and parent; real attestation documents, real
 * HPKE), and the app's side of enrollment.proto's flow.
 */
import { Code } from "@connectrpc/connect";
import { decode, type User } from "@nats-io/jwt";
import { createUser } from "@nats-io/nkeys";
import { sha256 } from "@noble/hashes/sha2.js";
import { connect, jwtAuthenticator } from "nats";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DeviceProofPurpose } from "../../gen/vettid/enrollment/v1/device_pb.js";
import { invitationCodeHash } from "../../server/enrollment/index.js";
import {
  createEnrollmentSessionsTable,
  createInvitationsTable,
  createMembersTable,
  createNatsTokensTable,
} from "../../server/storage/index.js";
import { failure } from "../support/failure.js";
import { type BackendFixture, startBackendFixture, TARGETS } from "./backend-fixture.js";
import {
  digestText,
  enrollMember,
  sealMaterial,
  TestDevice,
  verifiedEnclaveKey,
} from "./member-app.js";

let fixture: BackendFixture;
beforeAll(async () => {
  fixture = await startBackendFixture();
});
afterAll(async () => {
  await fixture?.close();
});
afterEach(() => {
  fixture.clock.offsetMs = 0;
});

describe.each(TARGETS)("enrollment through the %s adapter", (target) => {
  it("enrolls a member: session, attestation, sealed credential creation, NATS credentials", async () => {
    const code = await fixture.invite();
    const clients = fixture.clients(target);
    const member = await enrollMember(clients, code, fixture.enclave.trust);

    // The enclave created the vault under the guid the backend assigned, with this identity.
    expect(await fixture.enclave.identityPublicKey(member.ownerGuid)).toEqual(
      member.credential.identityPublicKey,
    );
    expect(member.credential.cekVersion).toBe(1n);

    // The backend recorded the member with the session's device key, and used the invitation.
    const stored = await createMembersTable(fixture.dynamo).get(member.ownerGuid);
    expect(stored?.devicePublicKey).toEqual(member.device.publicKey);
    expect(stored?.identityPublicKey).toEqual(member.credential.identityPublicKey);
    expect(stored?.status).toBe("active");
    const invitation = await createInvitationsTable(fixture.dynamo).get(invitationCodeHash(code));
    expect(invitation?.status).toBe("used");
    expect(invitation?.usedBySession).toBe(member.sessionId);
    const session = await createEnrollmentSessionsTable(fixture.dynamo).get(member.sessionId);
    expect(session?.state).toBe("finalized");

    // The NATS JWT is the member's, for the device's own nkey, and recorded for revocation.
    const claims = decode<User>(member.nats.userJwt);
    expect(claims.sub).toBe(member.nkey.getPublicKey());
    expect(claims.name).toBe(member.ownerGuid);
    expect(member.nats.ownerSpacePrefix).toBe(`OwnerSpace.${member.ownerGuid}`);
    expect(member.nats.serverUrls).toEqual([fixture.nats.url]);
    const tokens = await createNatsTokensTable(fixture.dynamo).list(member.ownerGuid);
    expect(tokens.map((t) => t.jwtId)).toEqual([claims.jti]);

    // …and the server accepts it.
    const connection = await connect({
      servers: fixture.nats.url,
      authenticator: jwtAuthenticator(member.nats.userJwt, member.nkey.getSeed()),
    });
    await connection.close();
  });

  it("speaks JSON as well as binary protobuf", async () => {
    const member = await enrollMember(
      fixture.clients(target, { json: true }),
      await fixture.invite(),
      fixture.enclave.trust,
    );
    expect(member.ownerGuid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("a retry of EnrollFinalize with the same material returns the same credential", async () => {
    const clients = fixture.clients(target);
    const device = TestDevice.create();
    const start = await clients.enrollment.enrollStart({
      invitationCode: await fixture.invite(),
      deviceAttestation: device.attestation(),
    });
    const id = start.enrollmentSessionId;
    const sealed = await sealMaterial(
      verifiedEnclaveKey(start, fixture.enclave.trust),
      id,
      start.attestationNonce,
    );
    const finalize = () =>
      clients.enrollment.enrollFinalize({
        enrollmentSessionId: id,
        sealedCredentialRequest: sealed,
        deviceProof: device.proof(DeviceProofPurpose.ENROLL_FINALIZE, id, sha256(sealed)),
      });
    const first = await finalize();
    const again = await finalize();
    expect(again.ownerGuid).toBe(first.ownerGuid);
    expect(again.credential).toEqual(first.credential);
  });
});

describe("sessions bound to the device", () => {
  it("an enrollment cannot be finished from another device: permission_denied, nothing written", async () => {
    const clients = fixture.clients("local");
    const device = TestDevice.create();
    const thief = TestDevice.create();
    const start = await clients.enrollment.enrollStart({
      invitationCode: await fixture.invite(),
      deviceAttestation: device.attestation(),
    });
    const id = start.enrollmentSessionId;
    const sealed = await sealMaterial(
      verifiedEnclaveKey(start, fixture.enclave.trust),
      id,
      start.attestationNonce,
    );
    const before = await fixture.snapshot();
    const calls = fixture.enclave.calls.createCredential;
    const error = await failure(
      clients.enrollment.enrollFinalize({
        enrollmentSessionId: id,
        sealedCredentialRequest: sealed,
        deviceProof: thief.proof(DeviceProofPurpose.ENROLL_FINALIZE, id, sha256(sealed)),
      }),
    );
    expect(error.code).toBe(Code.PermissionDenied);
    expect(error.rawMessage).toContain("not by the device key");
    expect(await fixture.snapshot()).toBe(before);
    expect(fixture.enclave.calls.createCredential).toBe(calls);
    // The right device still can.
    const done = await clients.enrollment.enrollFinalize({
      enrollmentSessionId: id,
      sealedCredentialRequest: sealed,
      deviceProof: device.proof(DeviceProofPurpose.ENROLL_FINALIZE, id, sha256(sealed)),
    });
    expect(done.ownerGuid).not.toBe("");
  });

  it("a thief with the session id cannot bootstrap NATS credentials either", async () => {
    const member = await enrollMember(
      fixture.clients("lambda"),
      await fixture.invite(),
      fixture.enclave.trust,
    );
    const thief = TestDevice.create();
    const nkey = createUser().getPublicKey();
    const error = await failure(
      fixture.clients("lambda").enrollment.natsBootstrap({
        enrollmentSessionId: member.sessionId,
        userNkeyPublic: nkey,
        deviceProof: thief.proof(
          DeviceProofPurpose.NATS_BOOTSTRAP,
          member.sessionId,
          digestText(nkey),
        ),
      }),
    );
    expect(error.code).toBe(Code.PermissionDenied);
  });

  it("a proof for another purpose, subject or request content is refused", async () => {
    const clients = fixture.clients("local");
    const device = TestDevice.create();
    const start = await clients.enrollment.enrollStart({
      invitationCode: await fixture.invite(),
      deviceAttestation: device.attestation(),
    });
    const id = start.enrollmentSessionId;
    const sealed = await sealMaterial(
      verifiedEnclaveKey(start, fixture.enclave.trust),
      id,
      start.attestationNonce,
    );
    const attempt = async (proof: ReturnType<TestDevice["proof"]>) =>
      failure(
        clients.enrollment.enrollFinalize({
          enrollmentSessionId: id,
          sealedCredentialRequest: sealed,
          deviceProof: proof,
        }),
      );
    const wrongPurpose = await attempt(
      device.proof(DeviceProofPurpose.NATS_BOOTSTRAP, id, sha256(sealed)),
    );
    expect(wrongPurpose.rawMessage).toContain("authorises NATS_BOOTSTRAP, not ENROLL_FINALIZE");
    const wrongSubject = await attempt(
      device.proof(DeviceProofPurpose.ENROLL_FINALIZE, crypto.randomUUID(), sha256(sealed)),
    );
    expect(wrongSubject.rawMessage).toContain("subject_id");
    const wrongDigest = await attempt(
      device.proof(DeviceProofPurpose.ENROLL_FINALIZE, id, sha256(new Uint8Array([1]))),
    );
    expect(wrongDigest.rawMessage).toContain("request_digest");
    const stale = await attempt(
      device.proof(DeviceProofPurpose.ENROLL_FINALIZE, id, sha256(sealed), {
        signedAtMs: fixture.clock.now() - 6 * 60_000,
      }),
    );
    expect(stale.rawMessage).toContain("signed_at_ms");
    for (const error of [wrongPurpose, wrongSubject, wrongDigest, stale]) {
      expect(error.code).toBe(Code.PermissionDenied);
    }
  });
});

describe("replayed and expired sessions", () => {
  it("a replayed device proof is refused, even on an idempotent retry", async () => {
    const clients = fixture.clients("local");
    const device = TestDevice.create();
    const start = await clients.enrollment.enrollStart({
      invitationCode: await fixture.invite(),
      deviceAttestation: device.attestation(),
    });
    const id = start.enrollmentSessionId;
    const sealed = await sealMaterial(
      verifiedEnclaveKey(start, fixture.enclave.trust),
      id,
      start.attestationNonce,
    );
    const proof = device.proof(DeviceProofPurpose.ENROLL_FINALIZE, id, sha256(sealed));
    await clients.enrollment.enrollFinalize({
      enrollmentSessionId: id,
      sealedCredentialRequest: sealed,
      deviceProof: proof,
    });
    const error = await failure(
      clients.enrollment.enrollFinalize({
        enrollmentSessionId: id,
        sealedCredentialRequest: sealed,
        deviceProof: proof,
      }),
    );
    expect(error.code).toBe(Code.PermissionDenied);
    expect(error.rawMessage).toContain("replayed");
  });

  it("a finalised session refuses other material, and its invitation cannot start another", async () => {
    const clients = fixture.clients("lambda");
    const code = await fixture.invite();
    const member = await enrollMember(clients, code, fixture.enclave.trust);
    const session = await createEnrollmentSessionsTable(fixture.dynamo).get(member.sessionId);
    const other = await sealMaterial(
      session?.enclaveSealingKey ?? new Uint8Array(32),
      member.sessionId,
      session?.attestationNonce ?? new Uint8Array(32),
    );
    const different = await failure(
      clients.enrollment.enrollFinalize({
        enrollmentSessionId: member.sessionId,
        sealedCredentialRequest: other,
        deviceProof: member.device.proof(
          DeviceProofPurpose.ENROLL_FINALIZE,
          member.sessionId,
          sha256(other),
        ),
      }),
    );
    expect(different.code).toBe(Code.FailedPrecondition);
    expect(different.rawMessage).toContain("different material");
    const reused = await failure(
      clients.enrollment.enrollStart({
        invitationCode: code,
        deviceAttestation: TestDevice.create().attestation(),
      }),
    );
    expect(reused.code).toBe(Code.NotFound);
    expect(reused.rawMessage).toBe("invitation code is unknown, used or expired");
  });

  it("the first of two sessions on one invitation wins; the other is refused", async () => {
    const clients = fixture.clients("local");
    const code = await fixture.invite();
    const a = TestDevice.create();
    const b = TestDevice.create();
    const startA = await clients.enrollment.enrollStart({
      invitationCode: code,
      deviceAttestation: a.attestation(),
    });
    const startB = await clients.enrollment.enrollStart({
      invitationCode: code.toLowerCase(),
      deviceAttestation: b.attestation(),
    });
    const sealedA = await sealMaterial(
      verifiedEnclaveKey(startA, fixture.enclave.trust),
      startA.enrollmentSessionId,
      startA.attestationNonce,
    );
    const sealedB = await sealMaterial(
      verifiedEnclaveKey(startB, fixture.enclave.trust),
      startB.enrollmentSessionId,
      startB.attestationNonce,
    );
    await clients.enrollment.enrollFinalize({
      enrollmentSessionId: startA.enrollmentSessionId,
      sealedCredentialRequest: sealedA,
      deviceProof: a.proof(
        DeviceProofPurpose.ENROLL_FINALIZE,
        startA.enrollmentSessionId,
        sha256(sealedA),
      ),
    });
    const error = await failure(
      clients.enrollment.enrollFinalize({
        enrollmentSessionId: startB.enrollmentSessionId,
        sealedCredentialRequest: sealedB,
        deviceProof: b.proof(
          DeviceProofPurpose.ENROLL_FINALIZE,
          startB.enrollmentSessionId,
          sha256(sealedB),
        ),
      }),
    );
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.rawMessage).toContain("used by another session");
  });

  it("an expired session can neither be finalised nor bootstrapped", async () => {
    const clients = fixture.clients("local");
    const device = TestDevice.create(() => fixture.clock.now());
    const start = await clients.enrollment.enrollStart({
      invitationCode: await fixture.invite(),
      deviceAttestation: device.attestation(),
    });
    const id = start.enrollmentSessionId;
    expect(Number(start.sessionExpiresAtMs) - fixture.clock.now()).toBeLessThanOrEqual(15 * 60_000);
    const sealed = await sealMaterial(
      verifiedEnclaveKey(start, fixture.enclave.trust),
      id,
      start.attestationNonce,
    );
    fixture.clock.offsetMs = 16 * 60_000;
    const before = await fixture.snapshot();
    const error = await failure(
      clients.enrollment.enrollFinalize({
        enrollmentSessionId: id,
        sealedCredentialRequest: sealed,
        deviceProof: device.proof(DeviceProofPurpose.ENROLL_FINALIZE, id, sha256(sealed)),
      }),
    );
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.rawMessage).toContain("expired");
    const nkey = createUser().getPublicKey();
    const bootstrap = await failure(
      clients.enrollment.natsBootstrap({
        enrollmentSessionId: id,
        userNkeyPublic: nkey,
        deviceProof: device.proof(DeviceProofPurpose.NATS_BOOTSTRAP, id, digestText(nkey)),
      }),
    );
    expect(bootstrap.code).toBe(Code.FailedPrecondition);
    expect(await fixture.snapshot()).toBe(before);
  });

  it("NatsBootstrap before EnrollFinalize is refused", async () => {
    const clients = fixture.clients("lambda");
    const device = TestDevice.create();
    const start = await clients.enrollment.enrollStart({
      invitationCode: await fixture.invite(),
      deviceAttestation: device.attestation(),
    });
    const nkey = createUser().getPublicKey();
    const error = await failure(
      clients.enrollment.natsBootstrap({
        enrollmentSessionId: start.enrollmentSessionId,
        userNkeyPublic: nkey,
        deviceProof: device.proof(
          DeviceProofPurpose.NATS_BOOTSTRAP,
          start.enrollmentSessionId,
          digestText(nkey),
        ),
      }),
    );
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.rawMessage).toContain("not finalised");
  });

  it("material the enclave cannot open is invalid_argument and frees the session for a retry", async () => {
    const clients = fixture.clients("local");
    const device = TestDevice.create();
    const start = await clients.enrollment.enrollStart({
      invitationCode: await fixture.invite(),
      deviceAttestation: device.attestation(),
    });
    const id = start.enrollmentSessionId;
    const key = verifiedEnclaveKey(start, fixture.enclave.trust);
    // Sealed for another session id (the aad): the enclave cannot open it.
    const wrong = await sealMaterial(key, crypto.randomUUID(), start.attestationNonce);
    const error = await failure(
      clients.enrollment.enrollFinalize({
        enrollmentSessionId: id,
        sealedCredentialRequest: wrong,
        deviceProof: device.proof(DeviceProofPurpose.ENROLL_FINALIZE, id, sha256(wrong)),
      }),
    );
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toContain("does not open");
    const weak = await sealMaterial(key, id, start.attestationNonce, { memoryKib: 1024 });
    const weakError = await failure(
      clients.enrollment.enrollFinalize({
        enrollmentSessionId: id,
        sealedCredentialRequest: weak,
        deviceProof: device.proof(DeviceProofPurpose.ENROLL_FINALIZE, id, sha256(weak)),
      }),
    );
    expect(weakError.code).toBe(Code.InvalidArgument);
    expect(weakError.rawMessage).toContain("minimums");
    const right = await sealMaterial(key, id, start.attestationNonce);
    const done = await clients.enrollment.enrollFinalize({
      enrollmentSessionId: id,
      sealedCredentialRequest: right,
      deviceProof: device.proof(DeviceProofPurpose.ENROLL_FINALIZE, id, sha256(right)),
    });
    expect(done.vault?.pinSetupRequired).toBe(true);
  });
});
