/**
 * Credential backup and the 24-hour recovery onto a new device (backup.proto), over both
 * adapters: uploads versioned by conditional writes, the bytes in the filesystem blob store, the
 * recovery slot, the cancel token from the notice, and the device move that ends the old device's
 * access.
 */
import { Code } from "@connectrpc/connect";
import { createUser } from "@nats-io/nkeys";
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RecoveryStatus } from "../../gen/vettid/backup/v1/credential_backup_pb.js";
import { DeviceProofPurpose } from "../../gen/vettid/enrollment/v1/device_pb.js";
import { issueDevAccountToken, RECOVERY_DELAY_MS } from "../../server/credential-backup/index.js";
import { createMembersTable } from "../../server/storage/index.js";
import { failure } from "../support/failure.js";
import { type BackendFixture, startBackendFixture, TARGETS } from "./backend-fixture.js";
import { digestText, type EnrolledMember, enrollMember, TestDevice } from "./member-app.js";

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

const token = (ownerGuid: string) => issueDevAccountToken(new Uint8Array(32).fill(7), ownerGuid);

function upload(
  target: "local" | "lambda",
  member: EnrolledMember,
  bytes: Uint8Array,
  version: bigint,
  device = member.device,
) {
  return fixture.clients(target).backups.uploadCredentialBackup({
    ownerGuid: member.ownerGuid,
    encryptedBackup: bytes,
    backupVersion: version,
    checksum: sha256(bytes),
    deviceProof: device.proof(DeviceProofPurpose.BACKUP_UPLOAD, member.ownerGuid, sha256(bytes)),
  });
}

describe.each(TARGETS)("credential backup through the %s adapter", (target) => {
  it("stores versions in order: same version again is a no-op, an older one is refused", async () => {
    const member = await enrollMember(
      fixture.clients(target),
      await fixture.invite(),
      fixture.enclave.trust,
    );
    const first = randomBytes(300);
    const stored = await upload(target, member, first, 1n);
    expect(stored.backup?.backupVersion).toBe(1n);
    expect(stored.backup?.checksum).toEqual(sha256(first));
    expect(stored.backup?.sizeBytes).toBe(300n);
    expect((await upload(target, member, first, 1n)).backup).toEqual(stored.backup);
    const stale = await failure(upload(target, member, randomBytes(10), 1n));
    expect(stale.code).toBe(Code.Aborted);
    const newer = await upload(target, member, randomBytes(20), 3n);
    expect(newer.backup?.backupVersion).toBe(3n);
    expect((await failure(upload(target, member, randomBytes(10), 2n))).code).toBe(Code.Aborted);
    const stranger = await failure(
      upload(target, member, randomBytes(10), 4n, TestDevice.create()),
    );
    expect(stranger.code).toBe(Code.PermissionDenied);
  });
});

describe("recovery on a new device", () => {
  it("waits 24 hours, can be cancelled with the notice's token, then moves the member to the new device", async () => {
    const clients = fixture.clients("local");
    const member = await enrollMember(clients, await fixture.invite(), fixture.enclave.trust);
    const backup = randomBytes(512);
    await upload("local", member, backup, 1n);
    const newDevice = TestDevice.create(() => fixture.clock.now());
    const headers = { authorization: `Bearer ${token(member.ownerGuid)}` };

    // Without the account sign-in: refused.
    const anonymous = await failure(
      clients.backups.requestRecovery({ newDevice: newDevice.attestation() }),
    );
    expect(anonymous.code).toBe(Code.Unauthenticated);

    // A first request, cancelled with the token from the notice.
    const first = await clients.backups.requestRecovery(
      { newDevice: newDevice.attestation() },
      { headers },
    );
    expect(first.ownerGuid).toBe(member.ownerGuid);
    expect(first.recovery?.status).toBe(RecoveryStatus.PENDING);
    expect(Number(first.recovery?.availableAtMs) - Number(first.recovery?.requestedAtMs)).toBe(
      RECOVERY_DELAY_MS,
    );
    const notice = fixture.notices.find((n) => n.recoveryId === first.recovery?.recoveryId);
    expect(notice?.cancelToken.byteLength).toBe(32);
    const twice = await failure(
      clients.backups.requestRecovery({ newDevice: newDevice.attestation() }, { headers }),
    );
    expect(twice.code).toBe(Code.AlreadyExists);
    const wrongToken = await failure(
      clients.backups.cancelRecovery({
        recoveryId: first.recovery?.recoveryId ?? "",
        authorization: { case: "cancelToken", value: randomBytes(32) },
      }),
    );
    expect(wrongToken.code).toBe(Code.PermissionDenied);
    const cancelled = await fixture.clients("lambda").backups.cancelRecovery({
      recoveryId: first.recovery?.recoveryId ?? "",
      authorization: { case: "cancelToken", value: notice?.cancelToken ?? new Uint8Array() },
    });
    expect(cancelled.recovery?.status).toBe(RecoveryStatus.CANCELLED);

    // A second request: refused before the delay, released after it.
    const second = await clients.backups.requestRecovery(
      { newDevice: newDevice.attestation() },
      { headers },
    );
    const recoveryId = second.recovery?.recoveryId ?? "";
    const download = () =>
      fixture.clients("lambda").backups.downloadCredentialBackup({
        recoveryId,
        deviceProof: newDevice.proof(
          DeviceProofPurpose.RECOVERY_DOWNLOAD,
          recoveryId,
          new Uint8Array(),
        ),
      });
    const early = await failure(download());
    expect(early.code).toBe(Code.FailedPrecondition);
    expect(early.rawMessage).toContain("not available before");
    // The old device, still registered, could cancel it with its own proof; the thief's cannot.
    const thief = await failure(
      clients.backups.cancelRecovery({
        recoveryId,
        authorization: {
          case: "deviceProof",
          value: TestDevice.create().proof(
            DeviceProofPurpose.RECOVERY_CANCEL,
            recoveryId,
            new Uint8Array(),
          ),
        },
      }),
    );
    expect(thief.code).toBe(Code.PermissionDenied);
    // Only the key attested in RequestRecovery may download.
    fixture.clock.offsetMs = RECOVERY_DELAY_MS + 60_000;
    const otherKey = await failure(
      fixture.clients("lambda").backups.downloadCredentialBackup({
        recoveryId,
        deviceProof: member.device.proof(
          DeviceProofPurpose.RECOVERY_DOWNLOAD,
          recoveryId,
          new Uint8Array(),
          {
            signedAtMs: fixture.clock.now(),
          },
        ),
      }),
    );
    expect(otherKey.code).toBe(Code.PermissionDenied);
    const released = await download();
    expect(released.encryptedBackup).toEqual(backup);
    expect(released.recovery?.status).toBe(RecoveryStatus.COMPLETED);
    expect(released.backup?.checksum).toEqual(sha256(backup));
    // A lost reply: the same device may download again.
    expect((await download()).encryptedBackup).toEqual(backup);

    // The member's registered device is now the new one: the old one is out.
    const stored = await createMembersTable(fixture.dynamo).get(member.ownerGuid);
    expect(stored?.devicePublicKey).toEqual(newDevice.publicKey);
    const nkey = createUser().getPublicKey();
    const old = await failure(
      clients.credentials.refreshNatsCredentials({
        ownerGuid: member.ownerGuid,
        userNkeyPublic: nkey,
        deviceProof: member.device.proof(
          DeviceProofPurpose.NATS_REFRESH,
          member.ownerGuid,
          digestText(nkey),
          {
            signedAtMs: fixture.clock.now(),
          },
        ),
      }),
    );
    expect(old.code).toBe(Code.PermissionDenied);
    const fresh = await clients.credentials.refreshNatsCredentials({
      ownerGuid: member.ownerGuid,
      userNkeyPublic: nkey,
      deviceProof: newDevice.proof(
        DeviceProofPurpose.NATS_REFRESH,
        member.ownerGuid,
        digestText(nkey),
      ),
    });
    expect(fresh.credentials?.userNkeyPublic).toBe(nkey);
  });

  it("a member without a backup cannot start a recovery", async () => {
    const member = await enrollMember(
      fixture.clients("lambda"),
      await fixture.invite(),
      fixture.enclave.trust,
    );
    const error = await failure(
      fixture
        .clients("lambda")
        .backups.requestRecovery(
          { newDevice: TestDevice.create().attestation() },
          { headers: { authorization: `Bearer ${token(member.ownerGuid)}` } },
        ),
    );
    expect(error.code).toBe(Code.FailedPrecondition);
  });
});
