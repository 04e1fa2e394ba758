/**
 * Member and service credentials against a real nats-server (2.9.10) in operator mode: the
 * configuration from server/nats-auth, users issued by it, and the whole member matrix enforced
 * by the server itself.
 */
import { Code } from "@connectrpc/connect";
import { encodeUser } from "@nats-io/jwt";
import { createAccount, createUser, type KeyPair } from "@nats-io/nkeys";
import {
  type ConnectionOptions,
  connect,
  ErrorCode,
  Events,
  jwtAuthenticator,
  type Msg,
  type NatsConnection,
  type NatsError,
} from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EchoService, VaultEchoService } from "../../gen/vettid/diagnostics/v1/echo_pb.js";
import {
  createNatsTransport,
  createRequestOpener,
  createRequestSealer,
  createRpcClient,
  createSealingKeyPair,
  type SealingKeyPair,
  serveNats,
} from "../../rpc/index.js";
import { createEchoService, createVaultEchoService } from "../../server/diagnostics/index.js";
import {
  createMemberCredentialIssuer,
  createNatsTrust,
  createVettidAccount,
  DEFAULT_MEMBER_JWT_TTL_MS,
  issueResolverUpdateUser,
  issueServiceUser,
  isUserJwtRevoked,
  type MemberCredentialIssuer,
  type NatsTrust,
  pushAccountJwt,
  revokeUsers,
  type ServiceRole,
} from "../../server/nats-auth/index.js";
import { failure } from "../support/failure.js";
import { startNatsServer } from "../support/nats-server.js";
import { createRpcFixture, type RpcFixture } from "../support/rpc-fixture.js";

const ALICE = "0f6a7c52-1c1e-4e8b-9d3a-6a2f4b8c9d01";
const BOB = "7d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6";
const CAROL = "c4a01e55-2b7d-4f0e-9a11-5e0c3b7d9f20";
const ENCLAVE_ID = "enclave-test-1";

let trust: NatsTrust;
let fixture: RpcFixture;
let keyPair: SealingKeyPair;
let issuer: MemberCredentialIssuer;
const problems: string[] = [];

/** What a member's device holds after enrollment: its own seed and the JWT the backend issued. */
interface Device {
  readonly guid: string;
  readonly nkey: KeyPair;
  readonly jwt: string;
}

beforeAll(async () => {
  trust = await createNatsTrust();
  fixture = await createRpcFixture(trust.serverConfig());
  keyPair = await createSealingKeyPair();
  // The vaults' traffic reaches NATS through the parent, with the parent's user.
  await serveNats({
    connection: await serviceConnection("parent"),
    routes: (router) => router.service(VaultEchoService, createVaultEchoService()),
    sealing: createRequestOpener(keyPair),
    onProblem: (problem) => problems.push(problem),
  });
  await serveNats({
    connection: await serviceConnection("backend"),
    routes: (router) => router.service(EchoService, createEchoService()),
  });
  issuer = createMemberCredentialIssuer({
    accountPublicKey: trust.account.publicKey,
    signingKey: trust.account.memberSigningKey,
    serverUrls: [fixture.nats.url],
  });
});
afterAll(async () => {
  await fixture?.close();
});

/** The device makes its nkey pair and sends only the public key; the backend signs a JWT for it. */
async function enroll(guid: string, from: MemberCredentialIssuer = issuer): Promise<Device> {
  const nkey = createUser();
  const { credentials } = await from.issue(guid, nkey.getPublicKey());
  expect(credentials.userNkeyPublic).toBe(nkey.getPublicKey());
  return { guid, nkey, jwt: credentials.userJwt };
}

async function memberConnection(device: Device): Promise<NatsConnection> {
  return await fixture.connect({
    authenticator: jwtAuthenticator(device.jwt, device.nkey.getSeed()),
  });
}

async function serviceConnection(role: ServiceRole): Promise<NatsConnection> {
  const nkey = createUser();
  const { jwt } = await issueServiceUser({
    role,
    userPublicKey: nkey.getPublicKey(),
    accountPublicKey: trust.account.publicKey,
    signingKey: trust.account.serviceSigningKey,
    ...(role === "parent" ? { enclaveId: ENCLAVE_ID } : {}),
  });
  return await fixture.connect({ authenticator: jwtAuthenticator(jwt, nkey.getSeed()) });
}

function vaultClient(connection: NatsConnection, ownerGuid: string) {
  return createRpcClient(
    VaultEchoService,
    createNatsTransport({
      connection,
      subjectValues: { owner_guid: ownerGuid },
      sealing: createRequestSealer(keyPair.publicKey),
    }),
  );
}

/** Connects outside the fixture (no reconnects) and returns the server's refusal. */
async function refusal(options: ConnectionOptions, url = fixture.nats.url): Promise<NatsError> {
  try {
    const connection = await connect({ servers: url, reconnect: false, ...options });
    await connection.close();
  } catch (error) {
    return error as NatsError;
  }
  throw new Error("expected nats-server to refuse the connection");
}

/** Resolves with the permission error of a subscription the server refuses. */
async function subscriptionRefusal(connection: NatsConnection, subject: string): Promise<string> {
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

/** Publishes and resolves with the subject nats-server reported as a denied publish. */
async function publishRefusal(connection: NatsConnection, subject: string): Promise<string> {
  const denied = (async () => {
    for await (const status of connection.status()) {
      const context = (status as { permissionContext?: { operation: string; subject: string } })
        .permissionContext;
      if (status.type === Events.Error && context?.operation === "publish") {
        // Earlier denials on this connection may still be arriving; wait for this one.
        if (context.subject === subject) return context.subject;
      }
    }
    return "connection closed";
  })();
  connection.publish(subject, new Uint8Array(8));
  await connection.flush();
  let timer: NodeJS.Timeout | undefined;
  const allowed = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`nats-server did not refuse ${subject}`), 5_000);
  });
  try {
    return await Promise.race([denied, allowed]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("members with issued JWTs, against nats-server in operator mode", () => {
  for (const [self, other] of [
    [ALICE, BOB],
    [BOB, ALICE],
  ] as const) {
    const name = self === ALICE ? "A" : "B";
    const otherName = self === ALICE ? "B" : "A";

    it(`${name} reaches its own vault, sealed, unary and streaming`, async () => {
      const connection = await memberConnection(await enroll(self));
      const response = await vaultClient(connection, self).vaultEcho({ echo: { text: "mine" } });
      expect(response.echo?.text).toBe("mine");
      expect(response.echo?.subjectValues.owner_guid).toBe(self);
      async function* requests() {
        for (let i = 0; i < 3; i++) yield { echo: { payload: new Uint8Array([i]) } };
      }
      let count = 0;
      for await (const _ of vaultClient(connection, self).vaultEchoStream(requests())) count++;
      expect(count).toBe(3);
    });

    it(`${name} cannot reach ${otherName}'s vault: permission_denied from the transport`, async () => {
      const connection = await memberConnection(await enroll(self));
      const error = await failure(
        vaultClient(connection, other).vaultEcho({ echo: { text: "not mine" } }),
      );
      expect(error.code).toBe(Code.PermissionDenied);
      expect(error.rawMessage).toContain(`OwnerSpace.${other}.forApp`);
    });

    it(`${name} cannot publish to ${otherName}'s forVault directly`, async () => {
      const connection = await memberConnection(await enroll(self));
      const subject = `OwnerSpace.${other}.forVault.sealed`;
      expect(await publishRefusal(connection, subject)).toBe(subject);
    });

    it(`${name} cannot subscribe to ${otherName}'s forApp or eventTypes`, async () => {
      const connection = await memberConnection(await enroll(self));
      expect(await subscriptionRefusal(connection, `OwnerSpace.${other}.forApp.>`)).toMatch(
        /permissions violation/i,
      );
      expect(await subscriptionRefusal(connection, `OwnerSpace.${other}.eventTypes`)).toMatch(
        /permissions violation/i,
      );
    });

    it(`${name} cannot direct replies into ${otherName}'s inbox`, async () => {
      const mine = await memberConnection(await enroll(self));
      const theirs = await memberConnection(await enroll(other));
      const received: Msg[] = [];
      theirs.subscribe(`OwnerSpace.${other}.forApp.>`, {
        callback: (_, msg) => received.push(msg),
      });
      await theirs.flush();
      // Publishing into the other's inbox is refused by NATS…
      const inbox = `OwnerSpace.${other}.forApp.rpc.x.1`;
      expect(await publishRefusal(mine, inbox)).toBe(inbox);
      // …and naming it as the reply of a call to its own vault is refused by the vault.
      problems.length = 0;
      mine.publish(`OwnerSpace.${self}.forVault.sealed`, new Uint8Array(64), { reply: inbox });
      await mine.flush();
      await until(() => problems.length > 0, "the vault to report the foreign reply subject");
      expect(problems[0]).toContain(
        "reply subject is not under OwnerSpace.{owner_guid}.forApp.rpc",
      );
      await theirs.flush();
      expect(received).toEqual([]);
    });
  }

  it("a member cannot reach services that are not for members, nor Control, nor everything", async () => {
    const connection = await memberConnection(await enroll(ALICE));
    const echo = createRpcClient(EchoService, createNatsTransport({ connection }));
    expect((await failure(echo.echo({ text: "x" }))).code).toBe(Code.PermissionDenied);
    expect(await publishRefusal(connection, "Control.global.command")).toBe(
      "Control.global.command",
    );
    expect(await subscriptionRefusal(connection, ">")).toMatch(/permissions violation/i);
    expect(await subscriptionRefusal(connection, "_INBOX.>")).toMatch(/permissions violation/i);
  });

  it("a member receives broadcasts", async () => {
    const connection = await memberConnection(await enroll(ALICE));
    const received: string[] = [];
    connection.subscribe("Broadcast.security.alert", {
      callback: (_, msg) => received.push(msg.subject),
    });
    await connection.flush();
    const backend = await serviceConnection("backend");
    backend.publish("Broadcast.security.alert", new Uint8Array(1));
    await backend.flush();
    await until(() => received.length === 1, "the broadcast");
  });

  it("an expired JWT is refused at connect", async () => {
    const past = createMemberCredentialIssuer({
      accountPublicKey: trust.account.publicKey,
      signingKey: trust.account.memberSigningKey,
      serverUrls: [fixture.nats.url],
      now: () => Date.now() - 2 * DEFAULT_MEMBER_JWT_TTL_MS,
    });
    const device = await enroll(ALICE, past);
    const error = await refusal({
      authenticator: jwtAuthenticator(device.jwt, device.nkey.getSeed()),
    });
    expect(error.code).toBe(ErrorCode.AuthorizationViolation);
  });

  it("a connection ends when its JWT expires", async () => {
    const almost = createMemberCredentialIssuer({
      accountPublicKey: trust.account.publicKey,
      signingKey: trust.account.memberSigningKey,
      serverUrls: [fixture.nats.url],
      // Issued "a day ago less two seconds": it expires two seconds from now.
      now: () => Date.now() - DEFAULT_MEMBER_JWT_TTL_MS + 2_000,
    });
    const device = await enroll(ALICE, almost);
    const connection = await connect({
      servers: fixture.nats.url,
      reconnect: false,
      authenticator: jwtAuthenticator(device.jwt, device.nkey.getSeed()),
    });
    const closed = await connection.closed();
    expect(String(closed)).toMatch(/expired/i);
  });

  it("the JWT is useless without the device's seed, and no bearer use", async () => {
    const device = await enroll(ALICE);
    const otherSeed = createUser().getSeed();
    expect((await refusal({ authenticator: jwtAuthenticator(device.jwt, otherSeed) })).code).toBe(
      ErrorCode.AuthorizationViolation,
    );
    expect((await refusal({ authenticator: jwtAuthenticator(device.jwt) })).code).toBe(
      ErrorCode.AuthorizationViolation,
    );
  });

  it("a JWT signed by a key the account does not list is refused", async () => {
    const nkey = createUser();
    const jwt = await encodeUser(
      ALICE,
      nkey.getPublicKey(),
      trust.account.publicKey,
      { pub: { allow: [">"] }, sub: { allow: [">"] } },
      { signer: createAccount(), exp: Math.floor(Date.now() / 1000) + 60 },
    );
    expect((await refusal({ authenticator: jwtAuthenticator(jwt, nkey.getSeed()) })).code).toBe(
      ErrorCode.AuthorizationViolation,
    );
  });

  it("the member signing key cannot mint a user with permissions of its own", async () => {
    // Whoever holds the member key (the credential function) gets only member-shaped users.
    const nkey = createUser();
    const jwt = await encodeUser(
      ALICE,
      nkey.getPublicKey(),
      trust.account.publicKey,
      { pub: { allow: [">"] }, sub: { allow: [">"] } },
      { signer: trust.account.memberSigningKey, exp: Math.floor(Date.now() / 1000) + 60 },
    );
    expect((await refusal({ authenticator: jwtAuthenticator(jwt, nkey.getSeed()) })).code).toBe(
      ErrorCode.AuthorizationViolation,
    );
  });
});

describe("service users", () => {
  it("an operator calls the backend's diagnostics; the backend cannot serve vault subjects", async () => {
    const operator = await serviceConnection("operator");
    const echo = createRpcClient(EchoService, createNatsTransport({ connection: operator }));
    expect((await echo.echo({ text: "ping" })).text).toBe("ping");
    const backend = await serviceConnection("backend");
    expect(await subscriptionRefusal(backend, "OwnerSpace.*.forVault.>")).toMatch(
      /permissions violation/i,
    );
    expect(await subscriptionRefusal(backend, "Control.>")).toMatch(/permissions violation/i);
  });

  it("a parent cannot issue operator commands or read another enclave's commands", async () => {
    const parent = await serviceConnection("parent");
    expect(await publishRefusal(parent, "Control.global.command")).toBe("Control.global.command");
    expect(await subscriptionRefusal(parent, "Control.enclave.other-enclave.command")).toMatch(
      /permissions violation/i,
    );
  });
});

describe("revocation", () => {
  it("a revoked member is disconnected at once and refused afterwards; others are not", async () => {
    const carol = await enroll(CAROL);
    const carolConnection = await memberConnection(carol);
    expect((await vaultClient(carolConnection, CAROL).vaultEcho({ echo: {} })).echo).toBeDefined();
    const bob = await memberConnection(await enroll(BOB));
    let carolDisconnected = false;
    void (async () => {
      for await (const status of carolConnection.status()) {
        if (status.type === Events.Disconnect) carolDisconnected = true;
      }
    })();

    // The backend re-signs the account JWT with Carol's device key revoked…
    const revoked = await revokeUsers({
      accountJwt: trust.account.jwt,
      operatorSigningKey: trust.operator.signingKey,
      userPublicKeys: [carol.nkey.getPublicKey()],
    });
    expect(isUserJwtRevoked(revoked.accountJwt, carol.jwt)).toBe(true);
    // …and pushes it with the system account's resolver-update user.
    const updaterKey = createUser();
    const updater = await fixture.connect({
      authenticator: jwtAuthenticator(
        await issueResolverUpdateUser({
          userPublicKey: updaterKey.getPublicKey(),
          systemAccountKey: trust.systemAccount.identityKey,
        }),
        updaterKey.getSeed(),
      ),
    });
    await pushAccountJwt(updater, revoked.accountJwt);

    await until(() => carolDisconnected, "Carol's connection to be closed");
    const error = await refusal({
      authenticator: jwtAuthenticator(carol.jwt, carol.nkey.getSeed()),
    });
    expect(error.code).toBe(ErrorCode.AuthorizationViolation);
    expect(
      (await vaultClient(bob, BOB).vaultEcho({ echo: { text: "still here" } })).echo?.text,
    ).toBe("still here");
  });

  it("a server started from the stored account JWT refuses the revoked member too", async () => {
    const carol = await enroll(CAROL);
    const alice = await enroll(ALICE);
    const revoked = await revokeUsers({
      accountJwt: trust.account.jwt,
      operatorSigningKey: trust.operator.signingKey,
      userPublicKeys: [carol.nkey.getPublicKey()],
    });
    const restarted = await startNatsServer({ config: trust.serverConfig(revoked.accountJwt) });
    try {
      const error = await refusal(
        { authenticator: jwtAuthenticator(carol.jwt, carol.nkey.getSeed()) },
        restarted.url,
      );
      expect(error.code).toBe(ErrorCode.AuthorizationViolation);
      const ok = await connect({
        servers: restarted.url,
        reconnect: false,
        authenticator: jwtAuthenticator(alice.jwt, alice.nkey.getSeed()),
      });
      await ok.close();
    } finally {
      await restarted.stop();
    }
  });

  it("a pushed account JWT signed by an untrusted key is refused by the server", async () => {
    // The same account, signed by an operator key this server does not trust.
    const rogueOperatorKey = (await createNatsTrust()).operator.signingKey;
    const rogue = await createVettidAccount({
      operatorSigningKey: rogueOperatorKey,
      identityKey: trust.account.identityKey,
    });
    const updaterKey = createUser();
    const updater = await fixture.connect({
      authenticator: jwtAuthenticator(
        await issueResolverUpdateUser({
          userPublicKey: updaterKey.getPublicKey(),
          systemAccountKey: trust.systemAccount.identityKey,
        }),
        updaterKey.getSeed(),
      ),
    });
    await expect(pushAccountJwt(updater, rogue.jwt)).rejects.toThrow(
      /refused the JWT of account A\w+: /,
    );
  });
});
