import { Code, type ConnectError } from "@connectrpc/connect";
import type { NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure } from "../support/failure.js";
import { createRpcFixture, type RpcFixture } from "../support/rpc-fixture.js";

let fixture: RpcFixture;
let clientConnection: NatsConnection;
const aborted: { method: string; reason: ConnectError }[] = [];

beforeAll(async () => {
  fixture = await createRpcFixture();
  await fixture.serveEcho(await fixture.connect(), {
    onAbort: (method, reason) => aborted.push({ method, reason }),
  });
  clientConnection = await fixture.connect();
});
afterAll(async () => {
  await fixture.close();
});

/** Resolves once the server has seen `count` aborted handlers (the test's own timeout bounds it). */
async function serverAborts(count: number): Promise<typeof aborted> {
  while (aborted.length < count) await new Promise((resolve) => setTimeout(resolve, 10));
  return aborted.splice(0);
}

describe("deadlines", () => {
  it("travel to the server, which aborts the handler when they pass", async () => {
    const client = fixture.echoClient(clientConnection);
    const error = await failure(
      client.echo({ behavior: { waitForCancel: true } }, { timeoutMs: 200 }),
    );
    expect(error.code).toBe(Code.DeadlineExceeded);
    const [seen] = await serverAborts(1);
    expect(seen?.method).toBe("Echo");
    expect(seen?.reason.code).toBe(Code.DeadlineExceeded);
  });

  it("apply to streams", async () => {
    const client = fixture.echoClient(clientConnection);
    const error = await failure(
      (async () => {
        for await (const _ of client.echoServerStream(
          { repeat: 1, behavior: { waitForCancel: true } },
          { timeoutMs: 200 },
        )) {
          // the one response arrives, then the stream waits for cancellation
        }
      })(),
    );
    expect(error.code).toBe(Code.DeadlineExceeded);
    const [seen] = await serverAborts(1);
    expect(seen?.reason.code).toBe(Code.DeadlineExceeded);
  });

  it("use the transport's default when a call sets none", async () => {
    const client = fixture.echoClient(clientConnection, { defaultTimeoutMs: 150 });
    const error = await failure(client.echo({ behavior: { waitForCancel: true } }));
    expect(error.code).toBe(Code.DeadlineExceeded);
    await serverAborts(1);
  });
});

describe("cancellation", () => {
  it("of a unary call reaches the server", async () => {
    const client = fixture.echoClient(clientConnection);
    const controller = new AbortController();
    const call = client.echo(
      { behavior: { waitForCancel: true } },
      { signal: controller.signal, timeoutMs: 60_000 },
    );
    setTimeout(() => controller.abort(), 100);
    expect((await failure(call)).code).toBe(Code.Canceled);
    const [seen] = await serverAborts(1);
    expect(seen?.reason.code).toBe(Code.Canceled);
  });

  it("by breaking out of a server stream reaches the server", async () => {
    const client = fixture.echoClient(clientConnection);
    for await (const response of client.echoServerStream(
      { repeat: 1, behavior: { waitForCancel: true } },
      { timeoutMs: 60_000 },
    )) {
      expect(response.index).toBe(0);
      break;
    }
    const [seen] = await serverAborts(1);
    expect(seen?.method).toBe("EchoServerStream");
    expect(seen?.reason.code).toBe(Code.Canceled);
  });

  it("by AbortSignal in the middle of a bidi stream reaches the server", async () => {
    const client = fixture.echoClient(clientConnection);
    const controller = new AbortController();
    async function* requests() {
      yield { payload: new Uint8Array([1]) };
      yield { payload: new Uint8Array([2]), behavior: { waitForCancel: true } };
      await new Promise(() => {}); // the client keeps its side open
    }
    const seen: number[] = [];
    const error = await failure(
      (async () => {
        for await (const response of client.echoBidi(requests(), {
          signal: controller.signal,
          timeoutMs: 60_000,
        })) {
          seen.push(response.index);
          controller.abort();
        }
      })(),
    );
    expect(seen).toEqual([0]);
    expect(error.code).toBe(Code.Canceled);
    const [aborted] = await serverAborts(1);
    expect(aborted?.method).toBe("EchoBidi");
  });
});
