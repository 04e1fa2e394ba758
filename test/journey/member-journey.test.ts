/**
 * The whole member journey through the real system: the reference SDK enrolls over the backend's
 * HTTP API (dynalite, device proofs, the real enclave creating the credential), connects to a
 * nats-server in operator mode with the member JWT it was issued, and drives its vault through
 * sealed calls — PIN setup, secrets, the password, CEK rotations, the PIN lockout — and reconnects
 * after the nats-server restarts.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enroll } from "../../clients/sdk/enrollment/index.js";
import { createMemberStore, type MemberStore } from "../../clients/sdk/member/index.js";
import {
  connectMember,
  openVaultSession,
  type VaultSession,
} from "../../clients/sdk/session/index.js";
import { createFileSecureStorage } from "../../clients/sdk/storage/index.js";
import { VaultState } from "../../gen/vettid/vault/v1/common_pb.js";
import { PinCheckResult } from "../../gen/vettid/vault/v1/pin_pb.js";
import { SecretProtection, SecretsService } from "../../gen/vettid/vault/v1/secrets_pb.js";
import { type BackendFixture, startBackendFixture } from "../server/backend-fixture.js";

const PASSWORD = "correct horse battery staple";
const PIN = "271828";
let fixture: BackendFixture;
let directory: string;
let member: MemberStore;
let session: VaultSession;
const steps: string[] = [];

beforeAll(async () => {
  fixture = await startBackendFixture();
  directory = await mkdtemp(join(tmpdir(), "vettid-journey-"));
  member = createMemberStore(await createFileSecureStorage(join(directory, "member")));
}, 120_000);
afterAll(async () => {
  await fixture?.close();
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
});

describe("a member's journey through the whole system", () => {
  it("enrolls with an invitation over HTTP: attested enclave, credential made inside it", async () => {
    const enrollment = await enroll({
      baseUrl: fixture.backend.url,
      invitationCode: await fixture.invite(),
      password: PASSWORD,
      member,
      trust: fixture.enclave.trust,
      onStep: (step) => steps.push(step),
    });
    expect(steps.length).toBeGreaterThanOrEqual(4);
    expect(enrollment.ownerGuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(await fixture.enclave.identityPublicKey(enrollment.ownerGuid)).toEqual(
      (await member.credentials.current())?.identityPublicKey,
    );
  }, 120_000);

  it("connects with its own member JWT, bootstraps and sets the PIN", async () => {
    session = await openVaultSession({
      connection: await connectMember(member),
      member,
      trust: fixture.enclave.trust,
    });
    expect((await session.bootstrap()).state).toBe(VaultState.UNINITIALIZED);
    expect((await session.setupPin(PIN)).state).toBe(VaultState.UNLOCKED);
  });

  it("stores and reads secrets; a protected one takes the password and rotates the CEK each time", async () => {
    const secrets = session.client(SecretsService);
    await secrets.putSecret({ name: "wifi", value: new TextEncoder().encode("hunter2") });
    expect(
      new TextDecoder().decode(
        (await secrets.getSecret({ secret: { case: "name", value: "wifi" } })).value,
      ),
    ).toBe("hunter2");
    for (let i = 0; i < 3; i++) {
      await session.withPassword(
        "/vettid.vault.v1.SecretsService/PutSecret",
        PASSWORD,
        (authorization) =>
          secrets.putSecret({
            name: "seed",
            value: new TextEncoder().encode(`words ${i}`),
            protection: SecretProtection.PROTECTED,
            authorization,
          }),
      );
    }
    expect((await member.credentials.current())?.cekVersion).toBe(4n);
  }, 120_000);

  it("refuses a wrong password, and the stored credential stays current", async () => {
    const secrets = session.client(SecretsService);
    const wrong = await session
      .withPassword(
        "/vettid.vault.v1.SecretsService/GetSecret",
        "not the password",
        (authorization) =>
          secrets.getSecret({ secret: { case: "name", value: "seed" }, authorization }),
      )
      .then(
        () => undefined,
        (error: unknown) => ConnectError.from(error),
      );
    expect(wrong?.code).toBe(Code.PermissionDenied);
    const right = await session.withPassword(
      "/vettid.vault.v1.SecretsService/GetSecret",
      PASSWORD,
      (authorization) =>
        secrets.getSecret({ secret: { case: "name", value: "seed" }, authorization }),
    );
    expect(new TextDecoder().decode(right.value)).toBe("words 2");
  }, 120_000);

  it("reconnects after the nats-server restarts", async () => {
    await fixture.nats.restart();
    const secrets = session.client(SecretsService);
    let read: Uint8Array | undefined;
    for (let attempt = 0; attempt < 50 && read === undefined; attempt++) {
      read = await secrets.getSecret({ secret: { case: "name", value: "wifi" } }).then(
        (response) => response.value,
        async () => {
          await new Promise((resolve) => setTimeout(resolve, 200));
          return undefined;
        },
      );
    }
    expect(new TextDecoder().decode(read)).toBe("hunter2");
  }, 60_000);

  it("locks out after three wrong PINs", async () => {
    await session.lock();
    for (const pin of ["000000", "000001"]) {
      expect((await session.unlock(pin)).result).toBe(PinCheckResult.WRONG_PIN);
    }
    const third = await session.unlock("000002");
    expect(third.state).toBe(VaultState.PIN_LOCKOUT);
    expect((await session.unlock(PIN)).result).toBe(PinCheckResult.LOCKED_OUT);
  });
});
