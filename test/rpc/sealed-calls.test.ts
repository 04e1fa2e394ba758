import { Code } from "@connectrpc/connect";
import { createInbox, headers, type Msg, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VaultEchoService } from "../../gen/vettid/diagnostics/v1/echo_pb.js";
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

let fixture: RpcFixture;
let keyPair: SealingKeyPair;
let relay: NatsConnection;
const seenByRelay: Msg[] = [];

beforeAll(async () => {
  fixture = await createRpcFixture();
  keyPair = await createSealingKeyPair();
  const vault = await fixture.connect();
  await serveNats({
    connection: vault,
    routes: (router) => router.service(VaultEchoService, createVaultEchoService()),
    sealing: createRequestOpener(keyPair),
  });
  // Everything a relay (the parent) can see of the member's traffic.
  relay = await fixture.connect();
  for (const subject of [
    "OwnerSpace.*.forVault.sealed",
    "OwnerSpace.*.forVault.sealed.>",
    "OwnerSpace.*.forApp.>",
  ]) {
    relay.subscribe(subject, { callback: (_, msg) => seenByRelay.push(msg) });
  }
  await relay.flush();
});
afterAll(async () => {
  await fixture.close();
});

async function aliceClient(options: { sealed?: boolean; allowUnsealed?: boolean } = {}) {
  return createRpcClient(
    VaultEchoService,
    createNatsTransport({
      connection: await fixture.connect(),
      subjectValues: { owner_guid: ALICE },
      ...(options.sealed === false ? {} : { sealing: createRequestSealer(keyPair.publicKey) }),
      ...(options.allowUnsealed === true ? { allowUnsealed: true } : {}),
    }),
  );
}

const secretText = "the member's secret text";

describe("sealed calls", () => {
  it("reach the vault, which sees the member's subject values", async () => {
    const client = await aliceClient();
    const response = await client.vaultEcho({ echo: { text: secretText } });
    expect(response.echo?.text).toBe(secretText);
    expect(response.echo?.subjectValues).toEqual({ owner_guid: ALICE });
  });

  it("stream both ways", async () => {
    const client = await aliceClient();
    async function* requests() {
      for (let i = 0; i < 10; i++) yield { echo: { payload: new Uint8Array([i]) } };
    }
    const seen: number[] = [];
    for await (const response of client.vaultEchoStream(requests())) {
      expect(response.echo?.payload).toEqual(new Uint8Array([response.echo?.index ?? -1]));
      seen.push(response.echo?.index ?? -1);
    }
    expect(seen).toEqual([...Array(10).keys()]);
  });

  it("carry errors and their codes inside the seal", async () => {
    const client = await aliceClient();
    const error = await failure(
      client.vaultEcho({
        echo: { behavior: { failCode: Code.NotFound, failMessage: "no such secret" } },
      }),
    );
    expect(error.code).toBe(Code.NotFound);
    expect(error.rawMessage).toBe("no such secret");
  });

  it("show a relay only the sealed subject and sizes: no method, headers or content", async () => {
    seenByRelay.length = 0;
    const client = await aliceClient();
    await client
      .vaultEcho({
        echo: {
          text: secretText,
          behavior: { failCode: Code.NotFound, failMessage: "hidden error" },
        },
      })
      .catch(() => {});
    await relay.flush();
    const request = seenByRelay.find((m) => m.subject.endsWith(".forVault.sealed"));
    expect(request?.subject).toBe(`OwnerSpace.${ALICE}.forVault.sealed`);
    for (const msg of seenByRelay) {
      const visible = Buffer.concat([
        Buffer.from(msg.subject),
        Buffer.from(msg.data),
        Buffer.from([...(msg.headers?.keys() ?? [])].join(" ")),
        Buffer.from([...(msg.headers?.keys() ?? [])].map((k) => msg.headers?.get(k)).join(" ")),
      ]).toString("latin1");
      for (const hidden of ["VaultEcho", secretText, "hidden error", "content-type", "not_found"]) {
        expect(visible).not.toContain(hidden);
      }
    }
  });
});

describe("sealed messages a relay tampers with, replays or redirects", () => {
  async function capturedRequest(): Promise<Msg> {
    seenByRelay.length = 0;
    const client = await aliceClient();
    await client.vaultEcho({ echo: { text: "original" } });
    await relay.flush();
    const request = seenByRelay.find((m) => m.subject.endsWith(".forVault.sealed"));
    if (request === undefined) throw new Error("no sealed request seen");
    return request;
  }

  /** Publishes sealed bytes as a relay could, with a reply under the member's own inbox prefix. */
  async function resend(
    subject: string,
    data: Uint8Array,
    owner = ALICE,
  ): Promise<{ code: string; message: string }> {
    const h = headers();
    h.set("vettid-sealed", "1");
    const reply = `OwnerSpace.${owner}.forApp.rpc.relay${Math.random().toString(36).slice(2)}.1`;
    const answered = new Promise<Msg>((resolve) => {
      relay.subscribe(reply, { max: 1, callback: (_, msg) => resolve(msg) });
    });
    await relay.flush();
    relay.publish(subject, data, { headers: h, reply });
    const msg = await answered;
    expect(msg.headers?.get("vettid-status")).not.toBe("200");
    expect(msg.headers?.get("vettid-sealed")).toBeFalsy();
    return JSON.parse(new TextDecoder().decode(msg.data)) as { code: string; message: string };
  }

  it("refuses a tampered request with invalid_argument", async () => {
    const request = await capturedRequest();
    const data = request.data.slice();
    data[data.length - 3] = (data.at(-3) ?? 0) ^ 0x40;
    const error = await resend(request.subject, data);
    expect(error.code).toBe("invalid_argument");
    expect(error.message).toContain("altered");
  });

  it("refuses a replayed request", async () => {
    const request = await capturedRequest();
    const error = await resend(request.subject, request.data);
    expect(error.code).toBe("invalid_argument");
    expect(error.message).toContain("replayed");
  });

  it("refuses a request redirected to another member's vault", async () => {
    const request = await capturedRequest();
    const error = await resend(`OwnerSpace.${BOB}.forVault.sealed`, request.data, BOB);
    expect(error.code).toBe("invalid_argument");
    expect(error.message).toContain("another subject");
  });

  it("never answers a redirected reply subject", async () => {
    const request = await capturedRequest();
    const inbox = createInbox();
    const replies: Msg[] = [];
    relay.subscribe(inbox, { callback: (_, msg) => replies.push(msg) });
    relay.publish(request.subject, request.data, { reply: inbox });
    await relay.flush();
    await new Promise((resolve) => setTimeout(resolve, 100));
    // `_INBOX` is not under the member's forApp prefix, so the vault drops the request unanswered.
    expect(replies).toEqual([]);
  });
});

describe("unsealed calls to a sealed service", () => {
  it("are refused by the transport unless explicitly allowed", async () => {
    const client = await aliceClient({ sealed: false });
    const error = await failure(client.vaultEcho({ echo: { text: "x" } }));
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.rawMessage).toContain("sealed");
  });

  it("find no server: the vault does not serve sealed services unsealed", async () => {
    const client = await aliceClient({ sealed: false, allowUnsealed: true });
    const error = await failure(client.vaultEcho({ echo: { text: "x" } }));
    expect(error.code).toBe(Code.Unavailable);
  });
});
