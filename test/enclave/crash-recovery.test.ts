/**
 * kill -9 of the enclave's processes at random points during writes, then restart: no
 * acknowledged write is lost and the vault always loads. The vault-manager runs inside the
 * supervisor process (one per active vault, in memory), so killing the supervisor kills every
 * vault-manager mid-write; the parent is killed mid-relay and mid-storage-write.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { connect, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EnclaveHost, startEnclaveHost } from "../../enclave/host/index.js";
import { createDevNsm } from "../../enclave/nsm/index.js";
import { BootstrapService, DevicePlatform } from "../../gen/vettid/vault/v1/bootstrap_pb.js";
import { PinCheckResult, PinService } from "../../gen/vettid/vault/v1/pin_pb.js";
import { SecretsService } from "../../gen/vettid/vault/v1/secrets_pb.js";
import { type NatsServerHandle, startNatsServer } from "../support/nats-server.js";
import {
  enrollMember,
  fetchVaultSealingKey,
  memberSession,
  type TestMember,
} from "../support/vault-member.js";

const PIN = "246810";
const KILLS = 6;
let nats: NatsServerHandle;
let host: EnclaveHost;
let directory: string;
const connections: NatsConnection[] = [];

async function natsConnection(): Promise<NatsConnection> {
  const connection = await connect({ servers: nats.url, maxReconnectAttempts: -1 });
  connections.push(connection);
  return connection;
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "vettid-crash-"));
  nats = await startNatsServer();
  host = await startEnclaveHost({ natsUrl: nats.url, stateDir: directory, onOutput: () => {} });
});
afterAll(async () => {
  await host?.close();
  for (const connection of connections) await connection.close().catch(() => {});
  await nats?.stop();
  await rm(directory, { recursive: true, force: true });
});

describe("kill -9 during writes", () => {
  it("loses no acknowledged write and never corrupts the vault", async () => {
    const nsm = createDevNsm({ stateDir: host.nsmStateDir });
    let member: TestMember = await enrollMember({
      backend: await natsConnection(),
      member: await natsConnection(),
      nsm,
    });
    await member.client(BootstrapService).bootstrap({
      device: { deviceId: "d", platform: DevicePlatform.IOS, appVersion: "1" },
      eventPublicKey: new Uint8Array(32),
    });
    await member.client(PinService).setupPin({ pin: PIN });
    const memberNats = await natsConnection();

    /** Whatever broke, get back to an unlocked session with the current enclave key. */
    async function recover(): Promise<void> {
      for (;;) {
        try {
          const key = await fetchVaultSealingKey(memberNats, member.ownerGuid, nsm);
          member = memberSession({ ...member, member: memberNats, sealingKey: key });
          const unlock = await member.client(PinService).unlockVault({ pin: PIN });
          expect(unlock.result).toBe(PinCheckResult.ACCEPTED);
          return;
        } catch {
          await sleep(100);
        }
      }
    }

    const acknowledged = new Map<string, string>();
    let kills = 0;
    let stop = false;
    const killer = (async () => {
      while (kills < KILLS) {
        // Let a few writes through after each restart (so the run makes progress however slow
        // the machine is), then kill at a random moment among the next writes.
        const target = acknowledged.size + 3;
        while (acknowledged.size < target) await sleep(20);
        await sleep(Math.floor(Math.random() * 300));
        const which = Math.random() < 0.5 ? "supervisor" : "parent";
        const victim = host[which];
        victim.child.kill("SIGKILL");
        await victim.exited;
        kills += 1;
        if (which === "supervisor") await host.restartSupervisor();
        else await host.restartParent();
      }
      stop = true;
    })();

    let attempt = 0;
    let failures = 0;
    while (!stop) {
      attempt += 1;
      const name = `secret-${attempt}`;
      const value = `value-${attempt}-${"x".repeat(attempt % 50)}`;
      try {
        await member
          .client(SecretsService)
          .putSecret({ name, value: new TextEncoder().encode(value) }, { timeoutMs: 5000 });
        acknowledged.set(name, value);
      } catch {
        failures += 1;
        await recover();
      }
    }
    await killer;
    await recover();

    expect(kills).toBe(KILLS);
    expect(acknowledged.size).toBeGreaterThanOrEqual(3 * KILLS);
    expect(failures).toBeGreaterThan(0);
    const secrets = member.client(SecretsService);
    for (const [name, value] of acknowledged) {
      const read = await secrets.getSecret({ secret: { case: "name", value: name } });
      expect(new TextDecoder().decode(read.value)).toBe(value);
    }
  }, 240_000);
});
