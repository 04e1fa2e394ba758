import { Code } from "@connectrpc/connect";
import { type NatsConnection, RequestStrategy, type ServiceClient } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsRpcServer } from "../../rpc/index.js";
import { createRpcFixture, type RpcFixture } from "../support/rpc-fixture.js";

let fixture: RpcFixture;
let clientConnection: NatsConnection;
let servers: NatsRpcServer[];
let discovery: ServiceClient;

beforeAll(async () => {
  fixture = await createRpcFixture();
  servers = [
    await fixture.serveEcho(await fixture.connect(), {}, { name: "echo", version: "1.2.3" }),
    await fixture.serveEcho(await fixture.connect(), {}, { name: "echo", version: "1.2.3" }),
  ];
  clientConnection = await fixture.connect();
  discovery = clientConnection.services.client({ maxWait: 500, strategy: RequestStrategy.Timer });
});
afterAll(async () => {
  await fixture.close();
});

interface EndpointStats {
  name: string;
  subject: string;
  queue_group: string;
  num_requests: number;
  num_errors: number;
  last_error: string;
  processing_time: number;
}

async function collect<T>(iterator: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterator) out.push(item);
  return out;
}

async function statsById(): Promise<Map<string, EndpointStats[]>> {
  const responses = (await collect(await discovery.stats("echo"))) as unknown as {
    id: string;
    endpoints: EndpointStats[];
  }[];
  return new Map(responses.map((r) => [r.id, r.endpoints]));
}

const requestsOf = (endpoints: EndpointStats[] | undefined, name: string) =>
  endpoints?.find((e) => e.name === name)?.num_requests ?? 0;

describe("two server instances behind one subject", () => {
  it("share unary calls through the queue group", async () => {
    const client = fixture.echoClient(clientConnection);
    await Promise.all([...Array(60).keys()].map((i) => client.echo({ text: String(i) })));
    const stats = await statsById();
    const counts = servers.map((s) => requestsOf(stats.get(s.id), "EchoService-Echo"));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(60);
    for (const count of counts) expect(count).toBeGreaterThan(0);
  });

  it("keep every frame of a stream on the instance that took it, in order", async () => {
    const client = fixture.echoClient(clientConnection);
    const calls = [...Array(6).keys()].map(async () => {
      async function* requests() {
        for (let i = 0; i < 30; i++) {
          if (i % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
          yield { payload: new Uint8Array([i]) };
        }
      }
      const seen: number[] = [];
      for await (const response of client.echoBidi(requests())) {
        expect(response.payload[0]).toBe(response.index);
        seen.push(response.index);
      }
      return seen;
    });
    for (const seen of await Promise.all(calls)) expect(seen).toEqual([...Array(30).keys()]);
    const stats = await statsById();
    const counts = servers.map((s) => requestsOf(stats.get(s.id), "EchoService-EchoBidi"));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(6);
  });
});

describe("discovery (NATS services protocol)", () => {
  it("answers $SRV.PING for each instance", async () => {
    const pings = (await collect(await discovery.ping("echo"))) as unknown as {
      type: string;
      id: string;
      version: string;
    }[];
    expect(pings.map((p) => p.id).sort()).toEqual(servers.map((s) => s.id).sort());
    expect(pings[0]?.type).toBe("io.nats.micro.v1.ping_response");
    expect(pings[0]?.version).toBe("1.2.3");
  });

  it("lists every endpoint with its subject and queue group in $SRV.INFO", async () => {
    const [info] = (await collect(await discovery.info("echo", servers[0]?.id))) as unknown as {
      type: string;
      endpoints: { name: string; subject: string; queue_group: string }[];
    }[];
    expect(info?.type).toBe("io.nats.micro.v1.info_response");
    expect(info?.endpoints.map((e) => e.subject).sort()).toEqual([
      "Diagnostics.echo.Echo",
      "Diagnostics.echo.EchoBidi",
      "Diagnostics.echo.EchoClientStream",
      "Diagnostics.echo.EchoServerStream",
    ]);
    expect(info?.endpoints[0]?.queue_group).toBe("vettid-rpc");
  });

  it("counts requests, errors and processing time per endpoint in $SRV.STATS", async () => {
    const client = fixture.echoClient(clientConnection);
    const failing = { behavior: { failCode: Code.NotFound, failMessage: "missing thing" } };
    await Promise.allSettled([...Array(10).keys()].map(() => client.echo(failing)));
    const endpoints = [...(await statsById()).values()]
      .flat()
      .filter((e) => e.name === "EchoService-Echo");
    const errors = endpoints.reduce((n, e) => n + e.num_errors, 0);
    expect(errors).toBe(10);
    const withErrors = endpoints.filter((e) => e.num_errors > 0);
    expect(withErrors[0]?.last_error).toBe("missing thing");
    expect(endpoints.every((e) => e.processing_time > 0)).toBe(true);
  });
});
