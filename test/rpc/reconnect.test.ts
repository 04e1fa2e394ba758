import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, expect, it } from "vitest";
import { failure } from "../support/failure.js";
import { createRpcFixture, type RpcFixture } from "../support/rpc-fixture.js";

let fixture: RpcFixture;

beforeAll(async () => {
  fixture = await createRpcFixture();
});
afterAll(async () => {
  await fixture.close();
});

const reconnecting = { reconnectTimeWait: 50, maxReconnectAttempts: -1 } as const;

it("fails calls in flight with unavailable when nats-server restarts, then serves new calls on the same client", async () => {
  await fixture.serveEcho(await fixture.connect(reconnecting));
  const client = fixture.echoClient(await fixture.connect(reconnecting));
  expect((await client.echo({ text: "before" })).text).toBe("before");

  // Deadlines of ten minutes: only a prompt `unavailable` lets this test finish in time.
  const unary = failure(client.echo({ behavior: { delayMs: 60_000 } }, { timeoutMs: 600_000 }));
  const stream = failure(
    (async () => {
      for await (const _ of client.echoServerStream(
        { repeat: 1_000, behavior: { delayMs: 100 } },
        { timeoutMs: 600_000 },
      )) {
        // responses arrive until the server goes away
      }
    })(),
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  await fixture.nats.restart();

  expect((await unary).code).toBe(Code.Unavailable);
  expect((await stream).code).toBe(Code.Unavailable);

  // The same client works again once both connections are back: no new client, no new transport.
  for (;;) {
    try {
      expect((await client.echo({ text: "after" }, { timeoutMs: 2_000 })).text).toBe("after");
      break;
    } catch (error) {
      expect(ConnectError.from(error).code).toBe(Code.Unavailable);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
});
