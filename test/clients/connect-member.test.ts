/**
 * `connectMember` against an operator-mode nats-server with a member JWT issued by the backend's
 * issuer (server/nats-auth): the device's own seed signs the server's nonce; another seed, or no
 * enrollment, is refused. The member may publish to its own vault subjects and may not to another
 * member's (the server enforces it; the client sees a permissions error).
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createUser } from "@nats-io/nkeys";
import { Events } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemberStore, type MemberStore } from "../../clients/sdk/member/index.js";
import { connectMember } from "../../clients/sdk/session/index.js";
import { createFileSecureStorage } from "../../clients/sdk/storage/index.js";
import { createMemberCredentialIssuer, createNatsTrust } from "../../server/nats-auth/index.js";
import { type NatsServerHandle, startNatsServer } from "../support/nats-server.js";

let server: NatsServerHandle;
let directory: string;
let member: MemberStore;
const ownerGuid = randomUUID();
let seedOfAnotherDevice: Uint8Array;

beforeAll(async () => {
  const trust = await createNatsTrust();
  server = await startNatsServer({ config: trust.serverConfig() });
  directory = await mkdtemp(join(tmpdir(), "vettid-connect-"));
  const issuer = createMemberCredentialIssuer({
    accountPublicKey: trust.account.publicKey,
    signingKey: trust.account.memberSigningKey,
    serverUrls: [server.url],
  });
  const nkey = createUser();
  const { credentials } = await issuer.issue(ownerGuid, nkey.getPublicKey());
  member = createMemberStore(await createFileSecureStorage(join(directory, "member")));
  await member.saveEnrollment({
    ownerGuid,
    natsCredentials: credentials,
    nkeySeed: nkey.getSeed(),
  });
  seedOfAnotherDevice = createUser().getSeed();
}, 30_000);
afterAll(async () => {
  await server?.stop();
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
});

describe("connectMember", () => {
  it("connects with the stored JWT and seed, within the member's permissions", async () => {
    const connection = await connectMember(member);
    try {
      const errors: string[] = [];
      void (async () => {
        for await (const status of connection.status()) {
          if (status.type === Events.Error) errors.push(String(status.data));
        }
      })();
      const settle = async () => {
        await connection.flush();
        await new Promise((resolve) => setTimeout(resolve, 200));
      };
      connection.subscribe(`OwnerSpace.${ownerGuid}.forApp.rpc.>`);
      connection.publish(`OwnerSpace.${ownerGuid}.forVault.attestation.GetVaultAttestation`);
      await settle();
      expect(errors).toEqual([]);
      connection.publish(`OwnerSpace.${randomUUID()}.forVault.secrets.sealed`);
      await settle();
      expect(errors).toEqual(["PERMISSIONS_VIOLATION"]);
    } finally {
      await connection.close();
    }
  });

  it("is refused with another device's seed", async () => {
    const other = createMemberStore(await createFileSecureStorage(join(directory, "other")));
    const natsCredentials = await member.natsCredentials();
    if (natsCredentials === undefined) throw new Error("no credentials");
    await other.saveEnrollment({ ownerGuid, natsCredentials, nkeySeed: seedOfAnotherDevice });
    await expect(connectMember(other)).rejects.toThrow(/Authorization Violation|AUTHORIZATION/i);
  });

  it("refuses to try without an enrollment", async () => {
    const empty = createMemberStore(await createFileSecureStorage(join(directory, "empty")));
    await expect(connectMember(empty)).rejects.toThrow(/not enrolled/);
  });
});
