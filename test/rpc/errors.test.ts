import { create, toBinary } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { headers, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EchoBehaviorSchema,
  EchoRequestSchema,
  EchoService,
} from "../../gen/vettid/diagnostics/v1/echo_pb.js";
import { createNatsTransport } from "../../rpc/index.js";
import { failure } from "../support/failure.js";
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

const codes = Object.values(Code).filter((c): c is Code => typeof c === "number");

describe("Connect error codes", () => {
  it("has all 16", () => {
    expect(codes).toHaveLength(16);
  });

  it.each(codes.map((code) => [Code[code], code] as const))(
    "%s round-trips with message and details on unary calls",
    async (_, code) => {
      const client = fixture.echoClient(clientConnection);
      const error = await failure(
        client.echo({ behavior: { failCode: code, failMessage: `failed with ${Code[code]}` } }),
      );
      expect(error.code).toBe(code);
      expect(error.rawMessage).toBe(`failed with ${Code[code]}`);
      const [detail] = error.findDetails(EchoBehaviorSchema);
      expect(detail?.failCode).toBe(code);
    },
  );

  it.each(codes.map((code) => [Code[code], code] as const))(
    "%s round-trips with message and details at the end of a stream",
    async (_, code) => {
      const client = fixture.echoClient(clientConnection);
      const received: number[] = [];
      const error = await failure(
        (async () => {
          for await (const response of client.echoServerStream({
            repeat: 2,
            behavior: { failCode: code, failMessage: `stream ${Code[code]}` },
          })) {
            received.push(response.index);
          }
        })(),
      );
      expect(received).toEqual([0, 1]);
      expect(error.code).toBe(code);
      expect(error.rawMessage).toBe(`stream ${Code[code]}`);
      expect(error.findDetails(EchoBehaviorSchema)[0]?.failCode).toBe(code);
    },
  );
});

describe("NATS service error headers", () => {
  it("are set on failed unary calls, so NATS tooling reads them", async () => {
    // A raw request, as `nats req` would make it.
    const h = headers();
    h.set("content-type", "application/proto");
    const reply = await clientConnection.request(
      "Diagnostics.echo.Echo",
      toBinary(
        EchoRequestSchema,
        create(EchoRequestSchema, {
          behavior: { failCode: Code.PermissionDenied, failMessage: "not yours" },
        }),
      ),
      { headers: h, timeout: 5_000 },
    );
    expect(reply.headers?.get("Nats-Service-Error")).toBe("not yours");
    expect(reply.headers?.get("Nats-Service-Error-Code")).toBe(
      String(codeToHttpStatus(Code.PermissionDenied)),
    );
    expect(reply.headers?.get("vettid-status")).toBe("403");
  });
});

describe("no responders", () => {
  it("fails with unavailable at once, not at the deadline", async () => {
    // A separate nats-server with nobody serving: the call has a 10-minute deadline and this test a
    // 30-second limit, so only an immediate failure passes.
    const lonely = await createRpcFixture();
    try {
      const connection = await lonely.connect();
      const client = createClient(EchoService, createNatsTransport({ connection }));
      const error = await failure(client.echo({}, { timeoutMs: 600_000 }));
      expect(error.code).toBe(Code.Unavailable);
      expect(error.rawMessage).toContain("no responders");
      const streamError = await failure(
        (async () => {
          for await (const _ of client.echoServerStream({ repeat: 1 }, { timeoutMs: 600_000 })) {
            // nothing arrives
          }
        })(),
      );
      expect(streamError.code).toBe(Code.Unavailable);
    } finally {
      await lonely.close();
    }
  });
});
