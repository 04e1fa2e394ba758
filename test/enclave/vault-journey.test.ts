import { Code } from "@connectrpc/connect";
import type { NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BootstrapNextStep,
  BootstrapService,
  DevicePlatform,
} from "../../gen/vettid/vault/v1/bootstrap_pb.js";
import { VaultState } from "../../gen/vettid/vault/v1/common_pb.js";
import { CredentialService } from "../../gen/vettid/vault/v1/credential_pb.js";
import { VaultLockedDetailSchema } from "../../gen/vettid/vault/v1/errors_pb.js";
import { PinCheckResult, PinService } from "../../gen/vettid/vault/v1/pin_pb.js";
import { SecretProtection, SecretsService } from "../../gen/vettid/vault/v1/secrets_pb.js";
import { StatusService } from "../../gen/vettid/vault/v1/status_pb.js";
import { type EnclaveStack, startEnclaveStack } from "../support/enclave-stack.js";
import { failure } from "../support/failure.js";
import { enrollMember, type TestMember } from "../support/vault-member.js";

let stack: EnclaveStack;
let backend: NatsConnection;
let member: TestMember;
const PIN = "482913";

async function bootstrapAndSetPin(m: TestMember) {
  const boot = await m.client(BootstrapService).bootstrap({
    device: { deviceId: "device-1", platform: DevicePlatform.IOS, appVersion: "1.0.0" },
    eventPublicKey: new Uint8Array(32).fill(7),
  });
  await m.client(PinService).setupPin({ pin: PIN });
  return boot;
}

beforeAll(async () => {
  stack = await startEnclaveStack();
  backend = await stack.connect();
  member = await enrollMember({ backend, member: await stack.connect(), nsm: stack.nsm });
});
afterAll(async () => {
  await stack?.close();
});

describe("a member's vault, enroll-less bootstrap to cold load", () => {
  it("starts uninitialized with a CEK and the first UTKs, then takes a PIN", async () => {
    const boot = await bootstrapAndSetPin(member);
    expect(boot.state).toBe(VaultState.UNINITIALIZED);
    expect(boot.nextStep).toBe(BootstrapNextStep.SETUP_PIN);
    expect(boot.utks).toHaveLength(10);
    expect(boot.cek?.version).toBe(1n);
    const status = await member.client(StatusService).getVaultStatus({});
    expect(status.status?.state).toBe(VaultState.UNLOCKED);
  });

  it("stores a secret, survives eviction and reads it back after unlock", async () => {
    const secrets = member.client(SecretsService);
    const put = await secrets.putSecret({
      name: "bank",
      value: new TextEncoder().encode("hunter2"),
      contentType: "text/plain",
    });
    expect(put.secret?.version).toBe(1n);
    await secrets.putSecret({ name: "bank", value: new TextEncoder().encode("hunter3") });

    expect(stack.supervisor.registry.evict(member.ownerGuid)).toBe(true);
    const locked = await failure(secrets.getSecret({ secret: { case: "name", value: "bank" } }));
    expect(locked.code).toBe(Code.FailedPrecondition);
    expect(locked.findDetails(VaultLockedDetailSchema)[0]?.state).toBe(VaultState.LOCKED);

    const unlock = await member.client(PinService).unlockVault({ pin: PIN });
    expect(unlock.result).toBe(PinCheckResult.ACCEPTED);
    const read = await secrets.getSecret({ secret: { case: "name", value: "bank" } });
    expect(new TextDecoder().decode(read.value)).toBe("hunter3");
    expect(read.version).toBe(2n);
    const first = await secrets.getSecret({ secret: { case: "name", value: "bank" }, version: 1n });
    expect(new TextDecoder().decode(first.value)).toBe("hunter2");
    const list = await secrets.listSecrets({});
    expect(list.secrets.map((s) => s.name)).toEqual(["bank"]);
  });

  it("survives an enclave restart with the data intact (fresh sealing key, same storage)", async () => {
    await stack.restartEnclave();
    const { fetchVaultSealingKey, memberSession } = await import("../support/vault-member.js");
    const key = await fetchVaultSealingKey(await stack.connect(), member.ownerGuid, stack.nsm);
    member = memberSession({
      member: await stack.connect(),
      ownerGuid: member.ownerGuid,
      sealingKey: key,
      passwordHash: member.passwordHash,
      credential: member.credential,
    });
    expect((await member.client(PinService).unlockVault({ pin: PIN })).result).toBe(
      PinCheckResult.ACCEPTED,
    );
    const read = await member
      .client(SecretsService)
      .getSecret({ secret: { case: "name", value: "bank" } });
    expect(new TextDecoder().decode(read.value)).toBe("hunter3");
  });

  it("protects a secret with the password, rotating the CEK on every use", async () => {
    const secrets = member.client(SecretsService);
    const auth = await member.authorize("/vettid.vault.v1.SecretsService/PutSecret");
    const put = await secrets.putSecret({
      name: "seed",
      value: new TextEncoder().encode("abandon abandon"),
      protection: SecretProtection.PROTECTED,
      authorization: auth,
    });
    expect(put.rotatedCredential?.credential?.cekVersion).toBe(2n);
    const stale = member.credential;
    member.credential = put.rotatedCredential?.credential ?? stale;

    // Reading needs the password; the old credential is refused.
    expect(
      (await failure(secrets.getSecret({ secret: { case: "name", value: "seed" } }))).code,
    ).toBe(Code.InvalidArgument);
    member.credential = stale;
    const staleAuth = await member.authorize("/vettid.vault.v1.SecretsService/GetSecret");
    expect(
      (
        await failure(
          secrets.getSecret({ secret: { case: "name", value: "seed" }, authorization: staleAuth }),
        )
      ).code,
    ).toBe(Code.FailedPrecondition);
    member.credential = put.rotatedCredential?.credential ?? stale;
    const read = await secrets.getSecret({
      secret: { case: "name", value: "seed" },
      authorization: await member.authorize("/vettid.vault.v1.SecretsService/GetSecret"),
    });
    expect(new TextDecoder().decode(read.value)).toBe("abandon abandon");
    expect(read.rotatedCredential?.credential?.cekVersion).toBe(3n);
    member.credential = read.rotatedCredential?.credential ?? stale;
  });

  it("refuses a wrong password and a reused challenge", async () => {
    const auth = await member.authorize(
      "/vettid.vault.v1.CredentialService/RotateCek",
      new Uint8Array(32).fill(1),
    );
    const wrong = await failure(
      member.client(CredentialService).rotateCek({ authorization: auth }),
    );
    expect(wrong.code).toBe(Code.PermissionDenied);
    const again = await failure(
      member.client(CredentialService).rotateCek({ authorization: auth }),
    );
    expect(again.code).toBe(Code.FailedPrecondition);
    const right = await member.client(CredentialService).rotateCek({
      authorization: await member.authorize("/vettid.vault.v1.CredentialService/RotateCek"),
    });
    expect(right.rotatedCredential?.previousCekVersion).toBe(3n);
    member.credential = right.rotatedCredential?.credential ?? member.credential;
  });

  it("reports the design's metrics to the parent, with no member id in them", async () => {
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const names = new Set(stack.metrics.map((m) => m.name));
    for (const name of [
      "ColdStartLatency",
      "OperationLatency",
      "ActiveVaults",
      "MemoryUsagePercent",
    ]) {
      expect(names).toContain(name);
    }
    const dimensions = stack.metrics.flatMap((m) =>
      m.dimensions.map((d) => `${d.name}=${d.value}`),
    );
    expect(new Set(dimensions)).toEqual(new Set(["EnclaveId=enclave-test-1"]));
    expect(JSON.stringify(stack.metrics.map((m) => m.name))).not.toContain(member.ownerGuid);
  });

  it("never shows the parent a PIN, a secret value or a password hash", () => {
    const needles = [PIN, "hunter2", "hunter3", "abandon abandon"].map((s) => Buffer.from(s));
    needles.push(Buffer.from(member.passwordHash));
    for (const { frame } of stack.frames) {
      const body = frame.body;
      const bytes =
        body.case === "deliverNatsMessage" || body.case === "publishNatsMessage"
          ? Buffer.from(body.value.data)
          : body.case === "storagePutRequest"
            ? Buffer.from(body.value.data)
            : body.case === "storageGetResponse"
              ? Buffer.from(body.value.data)
              : Buffer.alloc(0);
      for (const needle of needles) expect(bytes.includes(needle)).toBe(false);
    }
    expect(stack.frames.some(({ frame }) => frame.body.case === "storagePutRequest")).toBe(true);
  });
});
