import { Code } from "@connectrpc/connect";
import type { NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure } from "../support/failure.js";
import { createRpcFixture, type RpcFixture } from "../support/rpc-fixture.js";

/** A small max_payload so that oversize messages are cheap to make. */
const MAX_PAYLOAD = 32 * 1024;

let fixture: RpcFixture;
let clientConnection: NatsConnection;

beforeAll(async () => {
  fixture = await createRpcFixture(`max_payload: ${MAX_PAYLOAD}`);
  await fixture.serveEcho(await fixture.connect());
  clientConnection = await fixture.connect();
});
afterAll(async () => {
  await fixture.close();
});

describe("payloads over the server's max_payload", () => {
  it("fail a unary request with resource_exhausted at once, naming the sizes", async () => {
    const client = fixture.echoClient(clientConnection);
    const error = await failure(
      client.echo({ payload: new Uint8Array(MAX_PAYLOAD + 1) }, { timeoutMs: 600_000 }),
    );
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toContain(`max_payload of ${MAX_PAYLOAD} bytes`);
  });

  it("fail a response that would not fit with resource_exhausted", async () => {
    const client = fixture.echoClient(clientConnection);
    async function* parts() {
      for (let i = 0; i < 3; i++) yield { payload: new Uint8Array(MAX_PAYLOAD / 2) };
    }
    const error = await failure(client.echoClientStream(parts(), { timeoutMs: 600_000 }));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toContain("response of");
  });

  it("fail an oversize stream frame with resource_exhausted", async () => {
    const client = fixture.echoClient(clientConnection);
    async function* parts() {
      yield { payload: new Uint8Array(10) };
      yield { payload: new Uint8Array(MAX_PAYLOAD + 1) };
    }
    const error = await failure(
      (async () => {
        for await (const _ of client.echoBidi(parts(), { timeoutMs: 600_000 })) {
          // the first answer arrives; the second request cannot be sent
        }
      })(),
    );
    expect(error.code).toBe(Code.ResourceExhausted);
  });

  it("leave the connection usable", async () => {
    const client = fixture.echoClient(clientConnection);
    expect((await client.echo({ text: "fine" })).text).toBe("fine");
  });
});
