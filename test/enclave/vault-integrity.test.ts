import { randomUUID } from "node:crypto";
import { createConnection } from "node:net";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { ed25519 } from "@noble/curves/ed25519.js";
import type { NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { vaultDatabaseKey, vaultRecordKey } from "../../enclave/vault-manager/vault.js";
import {
  ControlCommandResultSchema,
  ControlCommandSchema,
  ControlCommandStatus,
  RejectionReason,
  SignedControlCommandSchema,
} from "../../gen/vettid/control/v1/command_pb.js";
import { VaultRecordSchema } from "../../gen/vettid/enclave/v1/vault_record_pb.js";
import { BootstrapService, DevicePlatform } from "../../gen/vettid/vault/v1/bootstrap_pb.js";
import { VaultState } from "../../gen/vettid/vault/v1/common_pb.js";
import { PinCheckResult, PinService } from "../../gen/vettid/vault/v1/pin_pb.js";
import { SecretsService } from "../../gen/vettid/vault/v1/secrets_pb.js";
import { type EnclaveStack, startEnclaveStack } from "../support/enclave-stack.js";
import { failure } from "../support/failure.js";
import {
  enrollMember,
  fetchVaultSealingKey,
  memberSession,
  type TestMember,
} from "../support/vault-member.js";

const PIN = "135790";
const operator = ed25519.keygen();
let clock = Date.now();
let stack: EnclaveStack;
let backend: NatsConnection;

async function newMember(): Promise<TestMember> {
  const member = await enrollMember({ backend, member: await stack.connect(), nsm: stack.nsm });
  await member.client(BootstrapService).bootstrap({
    device: { deviceId: "d1", platform: DevicePlatform.ANDROID, appVersion: "1" },
    eventPublicKey: new Uint8Array(32).fill(1),
  });
  await member.client(PinService).setupPin({ pin: PIN });
  return member;
}

async function reconnect(member: TestMember): Promise<TestMember> {
  const connection = await stack.connect();
  const key = await fetchVaultSealingKey(connection, member.ownerGuid, stack.nsm);
  return memberSession({
    member: connection,
    ownerGuid: member.ownerGuid,
    sealingKey: key,
    passwordHash: member.passwordHash,
    credential: member.credential,
  });
}

beforeAll(async () => {
  stack = await startEnclaveStack({
    now: () => clock,
    operatorKeys: new Map([["ops-1", { publicKey: operator.publicKey }]]),
  });
  backend = await stack.connect();
});
afterAll(async () => {
  await stack?.close();
});

describe("PIN lockout", () => {
  it("locks for an hour after 3 wrong PINs, across evictions and restarts, and the right PIN works after", async () => {
    let member = await newMember();
    const pins = () => member.client(PinService);
    await pins().lockVault({});
    const first = await pins().unlockVault({ pin: "000000" });
    expect(first.result).toBe(PinCheckResult.WRONG_PIN);
    expect(first.pinAttempts?.attemptsRemaining).toBe(2);
    stack.supervisor.registry.evict(member.ownerGuid);
    expect((await pins().unlockVault({ pin: "000001" })).pinAttempts?.attemptsRemaining).toBe(1);
    await stack.restartEnclave();
    member = await reconnect(member);
    const third = await pins().unlockVault({ pin: "000002" });
    expect(third.result).toBe(PinCheckResult.WRONG_PIN);
    expect(third.state).toBe(VaultState.PIN_LOCKOUT);
    expect(Number(third.pinAttempts?.lockedUntilMs)).toBe(clock + 3600_000);

    await stack.restartEnclave();
    member = await reconnect(member);
    const locked = await pins().unlockVault({ pin: PIN });
    expect(locked.result).toBe(PinCheckResult.LOCKED_OUT);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(stack.metrics.some((m) => m.name === "PINRateLimited" && m.value === 1)).toBe(true);

    clock += 3600_000 + 1;
    const after = await pins().unlockVault({ pin: PIN });
    expect(after.result).toBe(PinCheckResult.ACCEPTED);
    expect(after.pinAttempts?.attemptsRemaining).toBe(3);
  });

  it("cannot be reset by handing back an older record", async () => {
    const member = await newMember();
    const pins = member.client(PinService);
    await pins.lockVault({});
    const before = await stack.store.get(vaultRecordKey(member.ownerGuid));
    if (before.outcome !== "ok") throw new Error("no record");
    await pins.unlockVault({ pin: "111111" });
    await pins.unlockVault({ pin: "111112" });
    // The parent replays the record from before the two failures.
    await stack.store.put(vaultRecordKey(member.ownerGuid), before.data, { mode: "overwrite" });
    stack.supervisor.registry.evict(member.ownerGuid);
    const refused = await failure(pins.unlockVault({ pin: "111113" }));
    expect(refused.code).toBe(Code.DataLoss);
    expect(refused.rawMessage).toMatch(/rolled-back/);
  });
});

describe("idle vaults", () => {
  it("lock themselves after 15 minutes without use", async () => {
    const member = await newMember();
    await member.client(SecretsService).putSecret({ name: "idle", value: new Uint8Array([1]) });
    clock += 15 * 60_000 + 1;
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const read = await failure(
      member.client(SecretsService).getSecret({ secret: { case: "name", value: "idle" } }),
    );
    expect(read.code).toBe(Code.FailedPrecondition);
    expect((await member.client(PinService).unlockVault({ pin: PIN })).result).toBe(
      PinCheckResult.ACCEPTED,
    );
  });
});

describe("stored records", () => {
  it("refuses a tampered record and never loads it", async () => {
    const member = await newMember();
    await member.client(SecretsService).putSecret({ name: "a", value: new Uint8Array([1, 2, 3]) });
    const got = await stack.store.get(vaultRecordKey(member.ownerGuid));
    if (got.outcome !== "ok") throw new Error("no record");
    const record = fromBinary(VaultRecordSchema, got.data);
    const flipped = record.sealedState.slice();
    flipped[flipped.length - 20] = (flipped[flipped.length - 20] ?? 0) ^ 0x01;
    await stack.store.put(
      vaultRecordKey(member.ownerGuid),
      toBinary(VaultRecordSchema, { ...record, sealedState: flipped }),
      { mode: "overwrite" },
    );
    stack.supervisor.registry.evict(member.ownerGuid);
    const refused = await failure(member.client(PinService).unlockVault({ pin: PIN }));
    expect(refused.code).toBe(Code.DataLoss);
    expect(refused.rawMessage).toMatch(/fails authentication/);

    // A record moved from another member is refused too.
    const other = await newMember();
    await stack.store.put(vaultRecordKey(other.ownerGuid), got.data, { mode: "overwrite" });
    stack.supervisor.registry.evict(other.ownerGuid);
    expect((await failure(other.client(PinService).unlockVault({ pin: PIN }))).rawMessage).toMatch(
      /another member/,
    );
  });

  it("keeps a large database apart from the record, reloads it, and refuses it altered", async () => {
    const member = await newMember();
    const secrets = member.client(SecretsService);
    for (let i = 0; i < 4; i++) {
      await secrets.putSecret({ name: `big-${i}`, value: new Uint8Array(60_000).fill(i) });
    }
    const got = await stack.store.get(vaultRecordKey(member.ownerGuid));
    if (got.outcome !== "ok") throw new Error("no record");
    expect(got.data.length).toBeLessThan(4096);
    stack.supervisor.registry.evict(member.ownerGuid);
    expect((await member.client(PinService).unlockVault({ pin: PIN })).result).toBe(
      PinCheckResult.ACCEPTED,
    );
    expect((await secrets.getSecret({ secret: { case: "name", value: "big-3" } })).value[0]).toBe(
      3,
    );

    // Only the newest image is kept; altering it is caught before it is opened.
    // Older images are deleted after each reply (best effort): wait until only the newest is left.
    let images: bigint[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      images = [];
      for await (const entry of stack.store.list(`vaults/${member.ownerGuid}.db/`)) {
        images.push(BigInt(entry.key.split("/").at(-1) ?? "0"));
      }
      if (images.length === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(images).toHaveLength(1);
    const latest = images[0] ?? 0n;
    const image = await stack.store.get(vaultDatabaseKey(member.ownerGuid, latest));
    if (image.outcome !== "ok") throw new Error("no image");
    const altered = image.data.slice();
    altered[100] = (altered[100] ?? 0) ^ 1;
    await stack.store.put(vaultDatabaseKey(member.ownerGuid, latest), altered, {
      mode: "overwrite",
    });
    stack.supervisor.registry.evict(member.ownerGuid);
    const refused = await failure(member.client(PinService).unlockVault({ pin: PIN }));
    expect(refused.code).toBe(Code.DataLoss);
    expect(refused.rawMessage).toMatch(/does not match its record/);
  });

  it("answers not_found for a member without a vault", async () => {
    const stranger = memberSession({
      member: await stack.connect(),
      ownerGuid: randomUUID(),
      sealingKey: stack.supervisor.sealingPublicKey,
      passwordHash: new Uint8Array(32),
      credential: (await newMember()).credential,
    });
    expect((await failure(stranger.client(PinService).unlockVault({ pin: PIN }))).code).toBe(
      Code.NotFound,
    );
  });
});

describe("control commands", () => {
  function sign(
    command: Parameters<typeof create<typeof ControlCommandSchema>>[1],
    key = operator.secretKey,
    keyId = "ops-1",
  ) {
    const bytes = toBinary(ControlCommandSchema, create(ControlCommandSchema, command));
    const message = new Uint8Array([...new TextEncoder().encode("vettid-control-v1"), 0, ...bytes]);
    return toBinary(
      SignedControlCommandSchema,
      create(SignedControlCommandSchema, {
        command: bytes,
        signature: ed25519.sign(message, key),
        keyId,
      }),
    );
  }

  async function send(subject: string, payload: Uint8Array, commandId: string) {
    const operatorNats = await stack.connect();
    const results = operatorNats.subscribe(`Control.result.${commandId}`, { max: 1 });
    await operatorNats.flush();
    operatorNats.publish(subject, payload);
    for await (const msg of results) return fromBinary(ControlCommandResultSchema, msg.data);
    throw new Error("no result");
  }

  const evict = (
    ownerGuid: string,
    id = randomUUID(),
    overrides: { issuedAtMs?: bigint; expiresAtMs?: bigint } = {},
  ) => ({
    commandId: id,
    issuedAtMs: overrides.issuedAtMs ?? BigInt(clock),
    expiresAtMs: overrides.expiresAtMs ?? BigInt(clock + 60_000),
    issuer: "test",
    target: { target: { case: "global" as const, value: {} } },
    action: { case: "evictVault" as const, value: { ownerGuid } },
  });

  it("executes a signed command once and refuses its replay", async () => {
    const member = await newMember();
    expect(stack.supervisor.registry.activeCount).toBeGreaterThan(0);
    const command = evict(member.ownerGuid);
    const payload = sign(command);
    const result = await send("Control.global.command", payload, command.commandId);
    expect(result.status).toBe(ControlCommandStatus.COMPLETED);
    expect(
      (
        await member
          .client(BootstrapService)
          .bootstrap({ device: { deviceId: "d1" }, eventPublicKey: new Uint8Array(32) })
      ).state,
    ).toBe(VaultState.LOCKED);
    const replay = await send("Control.global.command", payload, command.commandId);
    expect(replay.rejectionReason).toBe(RejectionReason.REPLAYED);
  });

  it("refuses forged, expired, over-long and misdirected commands", async () => {
    const forgedCommand = evict(randomUUID());
    const forged = await send(
      "Control.global.command",
      sign(forgedCommand, ed25519.keygen().secretKey),
      forgedCommand.commandId,
    );
    expect(forged.rejectionReason).toBe(RejectionReason.BAD_SIGNATURE);
    const unknown = evict(randomUUID());
    expect(
      (
        await send(
          "Control.global.command",
          sign(unknown, operator.secretKey, "ops-9"),
          unknown.commandId,
        )
      ).rejectionReason,
    ).toBe(RejectionReason.UNKNOWN_KEY);
    const expired = evict(randomUUID(), randomUUID(), {
      issuedAtMs: BigInt(clock - 120_000),
      expiresAtMs: BigInt(clock - 1),
    });
    expect(
      (await send("Control.global.command", sign(expired), expired.commandId)).rejectionReason,
    ).toBe(RejectionReason.EXPIRED);
    const long = evict(randomUUID(), randomUUID(), { expiresAtMs: BigInt(clock + 2 * 3600_000) });
    expect((await send("Control.global.command", sign(long), long.commandId)).rejectionReason).toBe(
      RejectionReason.LIFETIME_TOO_LONG,
    );
    const misdirected = evict(randomUUID());
    expect(
      (
        await send(
          "Control.enclave.enclave-test-1.command",
          sign(misdirected),
          misdirected.commandId,
        )
      ).rejectionReason,
    ).toBe(RejectionReason.WRONG_TARGET);
  });
});

describe("the supervisor's socket", () => {
  it("closes a connection announcing an oversized frame, answers a malformed one, and keeps serving the parent", async () => {
    const member = await newMember();
    const socketPath = join(stack.directory, "supervisor.sock");
    const oversized = createConnection(socketPath);
    const closed = new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      oversized.on("data", (chunk) => chunks.push(chunk));
      oversized.on("close", () => resolve(Buffer.concat(chunks)));
    });
    oversized.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    const said = await closed;
    expect(said.length).toBeGreaterThan(4); // An ErrorFrame saying why, then the close.

    const malformed = createConnection(socketPath);
    const answer = new Promise<Buffer>((resolve) => malformed.once("data", resolve));
    malformed.write(Buffer.from([0, 0, 0, 3, 0xff, 0xff, 0xff]));
    expect((await answer).length).toBeGreaterThan(4);
    expect(malformed.destroyed).toBe(false);
    malformed.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));

    const put = await member
      .client(SecretsService)
      .putSecret({ name: "still-works", value: new Uint8Array([9]) });
    expect(put.secret?.version).toBe(1n);
  });
});
