/**
 * The permission matrix of members enrolled through the HTTP API, enforced by a real nats-server
 * in operator mode: each member reaches its own vault and nothing of another member's — neither
 * the other's vault nor the other's replies.
 */
import { Code } from "@connectrpc/connect";
import { createUser } from "@nats-io/nkeys";
import { connect, Events, jwtAuthenticator, type Msg, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VaultEchoService } from "../../gen/vettid/diagnostics/v1/echo_pb.js";
import { createNatsTransport, createRequestSealer, createRpcClient } from "../../rpc/index.js";
import { failure } from "../support/failure.js";
import { type BackendFixture, startBackendFixture } from "./backend-fixture.js";
import { type EnrolledMember, enrollMember } from "./member-app.js";

let fixture: BackendFixture;
let vaultKey: Uint8Array;
let alice: EnrolledMember;
let bob: EnrolledMember;
const open: NatsConnection[] = [];

beforeAll(async () => {
  fixture = await startBackendFixture();
  // The vaults' side is the real enclave (supervisor and parent): its sealed vault echo.
  vaultKey = fixture.enclave.sealingPublicKey;
  alice = await enrollMember(
    fixture.clients("local"),
    await fixture.invite(),
    fixture.enclave.trust,
  );
  bob = await enrollMember(
    fixture.clients("lambda"),
    await fixture.invite(),
    fixture.enclave.trust,
  );
});
afterAll(async () => {
  for (const connection of open) await connection.close().catch(() => {});
  await fixture?.close();
});

async function memberConnection(member: EnrolledMember): Promise<NatsConnection> {
  const connection = await connect({
    servers: fixture.nats.url,
    authenticator: jwtAuthenticator(member.nats.userJwt, member.nkey.getSeed()),
  });
  open.push(connection);
  return connection;
}

function vault(connection: NatsConnection, ownerGuid: string) {
  return createRpcClient(
    VaultEchoService,
    createNatsTransport({
      connection,
      subjectValues: { owner_guid: ownerGuid },
      sealing: createRequestSealer(vaultKey),
    }),
  );
}

async function subscribeRefused(connection: NatsConnection, subject: string): Promise<string> {
  const subscription = connection.subscribe(subject);
  try {
    for await (const _ of subscription) {
      // nothing may arrive
    }
  } catch (error) {
    return String(error);
  }
  return "subscription ended without an error";
}

async function publishRefused(connection: NatsConnection, subject: string): Promise<boolean> {
  const denied = (async () => {
    for await (const status of connection.status()) {
      const context = (status as { permissionContext?: { operation: string; subject: string } })
        .permissionContext;
      if (
        status.type === Events.Error &&
        context?.operation === "publish" &&
        context.subject === subject
      ) {
        return true;
      }
    }
    return false;
  })();
  connection.publish(subject, new Uint8Array(8));
  await connection.flush();
  let timer: NodeJS.Timeout | undefined;
  const allowed = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), 5_000);
  });
  try {
    return await Promise.race([denied, allowed]);
  } finally {
    clearTimeout(timer);
  }
}

describe("members enrolled over HTTP, against nats-server in operator mode", () => {
  for (const [selfName, otherName] of [
    ["alice", "bob"],
    ["bob", "alice"],
  ] as const) {
    const self = () => (selfName === "alice" ? alice : bob);
    const other = () => (otherName === "alice" ? alice : bob);

    it(`${selfName} reaches its own vault, sealed`, async () => {
      const response = await vault(await memberConnection(self()), self().ownerGuid).vaultEcho({
        echo: { text: "mine" },
      });
      expect(response.echo?.text).toBe("mine");
      expect(response.echo?.subjectValues.owner_guid).toBe(self().ownerGuid);
    });

    it(`${selfName} cannot reach ${otherName}'s vault`, async () => {
      const connection = await memberConnection(self());
      const error = await failure(vault(connection, other().ownerGuid).vaultEcho({ echo: {} }));
      expect(error.code).toBe(Code.PermissionDenied);
      expect(
        await publishRefused(connection, `OwnerSpace.${other().ownerGuid}.forVault.sealed`),
      ).toBe(true);
    });

    it(`${selfName} cannot read ${otherName}'s replies or events, nor write into them`, async () => {
      const connection = await memberConnection(self());
      const guid = other().ownerGuid;
      expect(await subscribeRefused(connection, `OwnerSpace.${guid}.forApp.>`)).toMatch(
        /permissions violation/i,
      );
      expect(await subscribeRefused(connection, `OwnerSpace.${guid}.forApp.rpc.>`)).toMatch(
        /permissions violation/i,
      );
      expect(await subscribeRefused(connection, `OwnerSpace.${guid}.eventTypes`)).toMatch(
        /permissions violation/i,
      );
      expect(await subscribeRefused(connection, "OwnerSpace.*.forApp.>")).toMatch(
        /permissions violation/i,
      );
      expect(await publishRefused(connection, `OwnerSpace.${guid}.forApp.rpc.x.1`)).toBe(true);
    });
  }

  it("bob's replies reach bob only, while alice listens everywhere she may", async () => {
    const aliceConnection = await memberConnection(alice);
    const heard: Msg[] = [];
    aliceConnection.subscribe(`OwnerSpace.${alice.ownerGuid}.forApp.>`, {
      callback: (_, msg) => heard.push(msg),
    });
    await aliceConnection.flush();
    const response = await vault(await memberConnection(bob), bob.ownerGuid).vaultEcho({
      echo: { text: "bob's" },
    });
    expect(response.echo?.text).toBe("bob's");
    await aliceConnection.flush();
    expect(heard).toEqual([]);
  });

  it("a member may use only the subjects the subjects page gives apps", async () => {
    const connection = await memberConnection(alice);
    for (const subject of [
      "Control.global.command",
      "Backend.votes.SubmitVotes",
      "Enclave.sealed",
      `MessageSpace.${bob.ownerGuid}.forOwner.messages.DeliverMessage`,
    ]) {
      expect(await publishRefused(connection, subject), subject).toBe(true);
    }
    expect(
      await subscribeRefused(connection, `MessageSpace.${alice.ownerGuid}.forOwner.>`),
    ).toMatch(/permissions violation/i);
    expect(await subscribeRefused(connection, "_INBOX.>")).toMatch(/permissions violation/i);
    expect(alice.nats.permissions?.publishAllow).toEqual([
      `OwnerSpace.${alice.ownerGuid}.forVault.>`,
      "MessageSpace.*.ownerProfile.>",
    ]);
  });

  it("the issued JWT is useless without the device's own nkey seed", async () => {
    await expect(
      connect({
        servers: fixture.nats.url,
        reconnect: false,
        authenticator: jwtAuthenticator(alice.nats.userJwt, createUser().getSeed()),
      }),
    ).rejects.toThrow(/authorization violation/i);
  });
});
