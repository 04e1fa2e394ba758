import { Code, ConnectError } from "@connectrpc/connect";
import type { NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EchoService } from "../../gen/vettid/diagnostics/v1/echo_pb.js";
import { serveNats } from "../../rpc/index.js";
import { createEchoService } from "../../server/diagnostics/index.js";
import { createRpcFixture, type RpcFixture } from "../support/rpc-fixture.js";

let fixture: RpcFixture;
let clientConnection: NatsConnection;

beforeAll(async () => {
  fixture = await createRpcFixture();
  await fixture.serveEcho(await fixture.connect());
  clientConnection = await fixture.connect();
});
afterAll(async () => {
  await fixture.close();
});

const bytes = (...values: number[]) => new Uint8Array(values);

async function* requests<T>(items: T[], gapMs = 0): AsyncGenerator<T> {
  for (const item of items) {
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
    yield item;
  }
}

describe.each([
  ["binary", true],
  ["JSON", false],
])("over NATS with the %s format", (_, useBinaryFormat) => {
  const client = () => fixture.echoClient(clientConnection, { useBinaryFormat });

  it("makes unary calls", async () => {
    const response = await client().echo({ text: "héllo ✓", payload: bytes(0, 1, 255) });
    expect(response.text).toBe("héllo ✓");
    expect(response.payload).toEqual(bytes(0, 1, 255));
  });

  it("streams responses from the server in order", async () => {
    const indexes: number[] = [];
    for await (const response of client().echoServerStream({ repeat: 50, payload: bytes(7) })) {
      expect(response.payload).toEqual(bytes(7));
      indexes.push(response.index);
    }
    expect(indexes).toEqual([...Array(50).keys()]);
  });

  it("streams requests from the client in order", async () => {
    const items = [...Array(40).keys()].map((i) => ({ payload: bytes(i) }));
    const response = await client().echoClientStream(requests(items));
    expect(response.count).toBe(40);
    expect([...response.payload]).toEqual([...Array(40).keys()]);
  });

  it("streams both ways, answering each request as it arrives", async () => {
    const items = [...Array(20).keys()].map((i) => ({ payload: bytes(i) }));
    const seen: number[] = [];
    for await (const response of client().echoBidi(requests(items, 2))) {
      expect(response.payload).toEqual(bytes(response.index));
      seen.push(response.index);
    }
    expect(seen).toEqual([...Array(20).keys()]);
  });

  it("handles empty streams", async () => {
    expect((await client().echoClientStream(requests([]))).count).toBe(0);
    const out = [];
    for await (const response of client().echoServerStream({ repeat: 0 })) out.push(response);
    expect(out).toEqual([]);
  });
});

describe("headers and trailers", () => {
  it("round-trip on unary calls", async () => {
    const client = fixture.echoClient(clientConnection);
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    await client.echo(
      { text: "x", behavior: { echoHeaders: true } },
      {
        headers: { "echo-colour": "blue", "echo-bin": "AAEC" },
        onHeader: (h) => {
          header = h;
        },
        onTrailer: (t) => {
          trailer = t;
        },
      },
    );
    expect(header?.get("echo-colour")).toBe("blue");
    expect(trailer?.get("echo-trailer-colour")).toBe("blue");
    expect(trailer?.get("echo-trailer-bin")).toBe("AAEC");
  });

  it("round-trip on streaming calls", async () => {
    const client = fixture.echoClient(clientConnection);
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    const stream = client.echoServerStream(
      { repeat: 2, behavior: { echoHeaders: true } },
      {
        headers: { "echo-id": "42" },
        onHeader: (h) => {
          header = h;
        },
        onTrailer: (t) => {
          trailer = t;
        },
      },
    );
    for await (const _ of stream) {
      // drain
    }
    expect(header?.get("echo-id")).toBe("42");
    expect(trailer?.get("echo-trailer-id")).toBe("42");
  });
});

describe("interceptors", () => {
  it("run around calls as they do over HTTP", async () => {
    const seen: string[] = [];
    const client = fixture.echoClient(clientConnection, {
      interceptors: [
        (next) => async (request) => {
          seen.push(request.method.name);
          request.header.set("echo-from-interceptor", "yes");
          return await next(request);
        },
      ],
    });
    let header: Headers | undefined;
    await client.echo(
      { behavior: { echoHeaders: true } },
      {
        onHeader: (h) => {
          header = h;
        },
      },
    );
    expect(seen).toEqual(["Echo"]);
    expect(header?.get("echo-from-interceptor")).toBe("yes");
  });

  it("see errors as ConnectErrors", async () => {
    let caught: unknown;
    const client = fixture.echoClient(clientConnection, {
      interceptors: [
        (next) => async (request) => {
          try {
            return await next(request);
          } catch (error) {
            caught = error;
            throw error;
          }
        },
      ],
    });
    await expect(
      client.echo({ behavior: { failCode: Code.NotFound, failMessage: "nope" } }),
    ).rejects.toThrow("nope");
    expect(caught).toBeInstanceOf(ConnectError);
    expect((caught as ConnectError).code).toBe(Code.NotFound);
  });
});

describe("server interceptors", () => {
  it("run around unary and streaming handlers, as on any Connect server", async () => {
    const seen: string[] = [];
    const server = await fixture.serveEcho(
      await fixture.connect(),
      {},
      {
        interceptors: [
          (next) => async (request) => {
            seen.push(`${request.method.name}:${request.header.get("echo-tag") ?? ""}`);
            const response = await next(request);
            response.header.set("echo-intercepted", "yes");
            return response;
          },
        ],
      },
    );
    try {
      // Both servers share the subject; call until this one has answered each kind once.
      const client = fixture.echoClient(clientConnection);
      while (!seen.some((s) => s.startsWith("Echo:"))) {
        await client.echo({}, { headers: { "echo-tag": "unary" } });
      }
      while (!seen.some((s) => s.startsWith("EchoServerStream:"))) {
        for await (const _ of client.echoServerStream(
          { repeat: 1 },
          { headers: { "echo-tag": "stream" } },
        )) {
          // drain
        }
      }
      expect(seen).toContain("Echo:unary");
      expect(seen).toContain("EchoServerStream:stream");
    } finally {
      await server.close();
    }
  });

  it("include those given with one service's registration", async () => {
    const seen: string[] = [];
    const server = await serveNats({
      connection: await fixture.connect(),
      routes: (router) =>
        router.service(EchoService, createEchoService(), {
          interceptors: [
            (next) => async (request) => {
              seen.push(request.method.name);
              return await next(request);
            },
          ],
        }),
    });
    try {
      const client = fixture.echoClient(clientConnection);
      while (seen.length === 0) await client.echo({ text: "x" });
      expect(seen[0]).toBe("Echo");
    } finally {
      await server.close();
    }
  });
});
