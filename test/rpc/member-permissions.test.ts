import { Code } from "@connectrpc/connect";
import type { Msg, NatsConnection } from "nats";
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
import { createVaultEchoService } from "../../server/diagnostics/index.js";
import { failure } from "../support/failure.js";
import { createRpcFixture, type RpcFixture } from "../support/rpc-fixture.js";

const ALICE = "0f6a7c52-1c1e-4e8b-9d3a-6a2f4b8c9d01";
const BOB = "7d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6";

/** What a member's NATS user may do (docs/subjects.md): its own forVault out, its own forApp in. */
const member = (guid: string) => `{
  user: "${guid}", password: "pw-${guid}",
  permissions: {
    publish: { allow: ["OwnerSpace.${guid}.forVault.>"] },
    subscribe: { allow: ["OwnerSpace.${guid}.forApp.>"] }
  }
}`;

const SERVER_CONFIG = `
authorization {
  users: [
    { user: "vault", password: "pw-vault" },
    ${member(ALICE)},
    ${member(BOB)}
  ]
}
`;

let fixture: RpcFixture;
let keyPair: SealingKeyPair;
const problems: string[] = [];

beforeAll(async () => {
  fixture = await createRpcFixture(SERVER_CONFIG);
  keyPair = await createSealingKeyPair();
  await serveNats({
    connection: await fixture.connect({ user: "vault", pass: "pw-vault" }),
    routes: (router) => router.service(VaultEchoService, createVaultEchoService()),
    sealing: createRequestOpener(keyPair),
    onProblem: (problem) => problems.push(problem),
  });
});
afterAll(async () => {
  await fixture.close();
});

async function memberConnection(guid: string): Promise<NatsConnection> {
  return await fixture.connect({ user: guid, pass: `pw-${guid}` });
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

describe("a member with member-only NATS permissions", () => {
  it("reaches its own vault, replies arriving under its own forApp prefix", async () => {
    const alice = await memberConnection(ALICE);
    const response = await vaultClient(alice, ALICE).vaultEcho({ echo: { text: "mine" } });
    expect(response.echo?.text).toBe("mine");
    expect(response.echo?.subjectValues.owner_guid).toBe(ALICE);
  });

  it("streams with its own vault", async () => {
    const alice = await memberConnection(ALICE);
    async function* requests() {
      for (let i = 0; i < 5; i++) yield { echo: { payload: new Uint8Array([i]) } };
    }
    let count = 0;
    for await (const _ of vaultClient(alice, ALICE).vaultEchoStream(requests())) count++;
    expect(count).toBe(5);
  });

  it("cannot reach another member's vault: permission_denied, not a timeout", async () => {
    const alice = await memberConnection(ALICE);
    const error = await failure(
      vaultClient(alice, BOB).vaultEcho({ echo: { text: "not mine" } }, { timeoutMs: 600_000 }),
    );
    expect(error.code).toBe(Code.PermissionDenied);
    // Its replies would have to come under Bob's forApp prefix, which it may not subscribe to.
    expect(error.rawMessage).toContain(`OwnerSpace.${BOB}.forApp`);
  });

  it("cannot call services that are not for members: permission_denied", async () => {
    const alice = await memberConnection(ALICE);
    const echo = createRpcClient(EchoService, createNatsTransport({ connection: alice }));
    const error = await failure(echo.echo({ text: "x" }, { timeoutMs: 600_000 }));
    expect(error.code).toBe(Code.PermissionDenied);
  });

  it("cannot subscribe to another member's replies", async () => {
    const alice = await memberConnection(ALICE);
    const subscription = alice.subscribe(`OwnerSpace.${BOB}.forApp.>`);
    let refused: unknown;
    try {
      for await (const _ of subscription) {
        // nothing may arrive
      }
    } catch (error) {
      refused = error;
    }
    expect(String(refused)).toMatch(/permissions violation/i);
  });

  it("cannot direct its vault's replies into another member's inbox", async () => {
    const alice = await memberConnection(ALICE);
    const bob = await memberConnection(BOB);
    const bobReceived: Msg[] = [];
    bob.subscribe(`OwnerSpace.${BOB}.forApp.>`, { callback: (_, msg) => bobReceived.push(msg) });
    await bob.flush();
    problems.length = 0;
    // Alice may publish to her own forVault; the reply she names is Bob's inbox.
    alice.publish(`OwnerSpace.${ALICE}.forVault.sealed`, new Uint8Array(64), {
      reply: `OwnerSpace.${BOB}.forApp.rpc.x.1`,
    });
    await alice.flush();
    while (problems.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(problems[0]).toContain("reply subject is not under OwnerSpace.{owner_guid}.forApp.rpc");
    await bob.flush();
    expect(bobReceived).toEqual([]);
  });
});
