import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import { createInbox, headers, type Msg, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EchoServerStreamResponseSchema } from "../../gen/vettid/diagnostics/v1/echo_pb.js";
import { failure } from "../support/failure.js";
import { createRpcFixture, type RpcFixture } from "../support/rpc-fixture.js";

/**
 * These tests play one side of the protocol by hand with raw NATS messages, exactly as
 * docs/protocol.md describes them, to make frames go missing or stop.
 */
let fixture: RpcFixture;
let raw: NatsConnection;

beforeAll(async () => {
  fixture = await createRpcFixture();
  raw = await fixture.connect();
});
afterAll(async () => {
  await fixture.close();
});

function frame(kind: string, seq?: number, extra: Record<string, string> = {}) {
  const h = headers();
  h.set("vettid-frame", kind);
  if (seq !== undefined) h.set("vettid-seq", String(seq));
  for (const [name, value] of Object.entries(extra)) h.set(name, value);
  return h;
}

const response = (index: number) =>
  encodeEnvelope(
    0,
    toBinary(EchoServerStreamResponseSchema, create(EchoServerStreamResponseSchema, { index })),
  );

/** A hand-written server for EchoServerStream that behaves as `script` says. */
function fakeServer(script: (open: Msg, continueAt: string) => void): {
  pings: () => number;
  stop: () => void;
} {
  let pings = 0;
  const continuePrefix = "Diagnostics.echo.EchoServerStream.fake";
  const first = raw.subscribe("Diagnostics.echo.EchoServerStream", {
    callback: (_, msg) => {
      const continueAt = `${continuePrefix}.${msg.reply?.split(".").at(-1)}`;
      raw.publish(msg.reply as string, undefined, {
        headers: frame("ack", undefined, { "vettid-continue": continueAt }),
      });
      script(msg, continueAt);
    },
  });
  const later = raw.subscribe(`${continuePrefix}.*`, {
    callback: (_, msg) => {
      if (msg.headers?.get("vettid-frame") === "ping") pings++;
    },
  });
  return {
    pings: () => pings,
    stop: () => {
      first.unsubscribe();
      later.unsubscribe();
    },
  };
}

describe("the client", () => {
  it("ends a stream with unavailable when a response frame is lost", async () => {
    const server = fakeServer((open) => {
      const reply = open.reply as string;
      raw.publish(reply, response(0), {
        headers: frame("data", 0, {
          "vettid-status": "200",
          "content-type": "application/connect+proto",
        }),
      });
      // frame 1 never arrives
      raw.publish(reply, response(2), { headers: frame("data", 2) });
    });
    try {
      const client = fixture.echoClient(await fixture.connect());
      const seen: number[] = [];
      const error = await failure(
        (async () => {
          for await (const r of client.echoServerStream({ repeat: 3 }, { timeoutMs: 600_000 })) {
            seen.push(r.index);
          }
        })(),
      );
      expect(seen).toEqual([0]);
      expect(error.code).toBe(Code.Unavailable);
      expect(error.rawMessage).toContain("frame 1 was lost");
    } finally {
      server.stop();
    }
  });

  it("pings a quiet server and ends the stream when the server goes silent", async () => {
    const server = fakeServer(() => {
      // acknowledged, then nothing at all
    });
    try {
      const client = fixture.echoClient(await fixture.connect(), {
        heartbeatIntervalMs: 50,
        streamIdleTimeoutMs: 400,
      });
      const error = await failure(
        (async () => {
          for await (const _ of client.echoServerStream({ repeat: 3 }, { timeoutMs: 600_000 })) {
            // nothing arrives
          }
        })(),
      );
      expect(error.code).toBe(Code.Unavailable);
      expect(error.rawMessage).toContain("silent");
      expect(server.pings()).toBeGreaterThan(0);
    } finally {
      server.stop();
    }
  });
});

describe("the server", () => {
  it("cancels a stream whose request frame was lost, and tells the client", async () => {
    const server = await fixture.serveEcho(await fixture.connect());
    const inbox = createInbox();
    const replies: Msg[] = [];
    raw.subscribe(inbox, { callback: (_, msg) => replies.push(msg) });
    raw.publish("Diagnostics.echo.EchoBidi", new Uint8Array(), {
      reply: inbox,
      headers: frame("open", undefined, { "content-type": "application/connect+proto" }),
    });
    while (replies.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const continueAt = replies[0]?.headers?.get("vettid-continue");
    expect(replies[0]?.headers?.get("vettid-frame")).toBe("ack");
    expect(continueAt).toMatch(/^Diagnostics\.echo\.EchoBidi\.\w+\.\w+$/);
    // Frame 1 is skipped.
    raw.publish(continueAt as string, encodeEnvelope(0, new Uint8Array()), {
      headers: frame("data", 2),
    });
    while (replies.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const cancel = replies[1];
    expect(cancel?.headers?.get("vettid-frame")).toBe("cancel");
    expect(cancel?.headers?.get("vettid-reason")).toBe("Unavailable");
    expect(cancel?.headers?.get("Nats-Service-Error")).toContain("frame 1 was lost");
    await server.close();
  });

  it("ends a stream whose client went silent", async () => {
    const server = await fixture.serveEcho(
      await fixture.connect(),
      {},
      { heartbeatIntervalMs: 50, streamIdleTimeoutMs: 300 },
    );
    const inbox = createInbox();
    const replies: Msg[] = [];
    raw.subscribe(inbox, { callback: (_, msg) => replies.push(msg) });
    raw.publish("Diagnostics.echo.EchoBidi", new Uint8Array(), {
      reply: inbox,
      headers: frame("open", undefined, { "content-type": "application/connect+proto" }),
    });
    // This client never answers pings; the server gives up after its idle timeout.
    for (;;) {
      const cancel = replies.find((m) => m.headers?.get("vettid-frame") === "cancel");
      if (cancel !== undefined) {
        expect(cancel.headers?.get("Nats-Service-Error")).toContain("silent");
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(replies.some((m) => m.headers?.get("vettid-frame") === "ping")).toBe(true);
    await server.close();
  });
});
