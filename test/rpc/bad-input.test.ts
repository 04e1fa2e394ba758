import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { headers, type Msg, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EchoRequestSchema, VaultEchoService } from "../../gen/vettid/diagnostics/v1/echo_pb.js";
import { createNatsTransport, createRpcClient, serveNats } from "../../rpc/index.js";
import { createVaultEchoService } from "../../server/diagnostics/index.js";
import { createRpcFixture, type RpcFixture } from "../support/rpc-fixture.js";

let fixture: RpcFixture;
let raw: NatsConnection;
const problems: string[] = [];

beforeAll(async () => {
  fixture = await createRpcFixture();
  await fixture.serveEcho(await fixture.connect(), {}, { onProblem: (p) => problems.push(p) });
  raw = await fixture.connect();
});
afterAll(async () => {
  await fixture.close();
});

/** Sends a raw NATS request, as any client could, and returns the reply. */
async function rawRequest(
  subject: string,
  data: Uint8Array,
  header: Record<string, string> = { "content-type": "application/proto" },
): Promise<Msg> {
  const h = headers();
  for (const [name, value] of Object.entries(header)) h.set(name, value);
  return await raw.request(subject, data, { headers: h, timeout: 10_000 });
}

function errorOf(msg: Msg): { status: string | undefined; code: string; message: string } {
  const json = JSON.parse(new TextDecoder().decode(msg.data)) as { code: string; message: string };
  return { status: msg.headers?.get("vettid-status"), ...json };
}

/** The server must still answer ordinary calls after each bad one. */
async function serverStillAnswers(): Promise<void> {
  const client = fixture.echoClient(await fixture.connect());
  expect((await client.echo({ text: "still here" })).text).toBe("still here");
}

const validRequest = toBinary(EchoRequestSchema, create(EchoRequestSchema, { text: "ok" }));

describe("bad input from the network", () => {
  it("garbage payload: invalid_argument, server stays up", async () => {
    const reply = await rawRequest(
      "Diagnostics.echo.Echo",
      new Uint8Array([0xff, 0xff, 0xff, 0x07, 0x00]),
    );
    const error = errorOf(reply);
    expect(error.code).toBe("invalid_argument");
    expect(error.status).toBe(String(codeToHttpStatus(Code.InvalidArgument)));
    await serverStillAnswers();
  });

  it("missing content-type: refused with 415, server stays up", async () => {
    const reply = await rawRequest("Diagnostics.echo.Echo", validRequest, {});
    expect(reply.headers?.get("vettid-status")).toBe("415");
    await serverStillAnswers();
  });

  it("malformed deadline header: invalid_argument", async () => {
    const reply = await rawRequest("Diagnostics.echo.Echo", validRequest, {
      "content-type": "application/proto",
      "connect-timeout-ms": "soon",
    });
    expect(errorOf(reply).code).toBe("invalid_argument");
    await serverStillAnswers();
  });

  it("a stream frame header on a unary method: invalid_argument naming the header", async () => {
    const reply = await rawRequest("Diagnostics.echo.Echo", validRequest, {
      "content-type": "application/proto",
      "vettid-frame": "open",
    });
    const error = errorOf(reply);
    expect(error.code).toBe("invalid_argument");
    expect(error.message).toContain("vettid-frame");
  });

  it("a streaming method without an open frame: invalid_argument", async () => {
    const reply = await rawRequest("Diagnostics.echo.EchoBidi", new Uint8Array(), {
      "content-type": "application/connect+proto",
    });
    expect(errorOf(reply).code).toBe("invalid_argument");
    await serverStillAnswers();
  });

  it("an unknown protocol version: unimplemented", async () => {
    const reply = await rawRequest("Diagnostics.echo.Echo", validRequest, {
      "content-type": "application/proto",
      "vettid-rpc": "2",
    });
    const error = errorOf(reply);
    expect(error.code).toBe("unimplemented");
    expect(error.message).toContain("protocol version 2");
  });

  it("an unknown method: unimplemented, naming it", async () => {
    const reply = await rawRequest("Diagnostics.echo.Explode", validRequest);
    const error = errorOf(reply);
    expect(error.code).toBe("unimplemented");
    expect(error.message).toContain("Explode");
    expect(reply.headers?.get("Nats-Service-Error-Code")).toBe("501");
    await serverStillAnswers();
  });

  it("a request without a reply subject is dropped and reported, never answered", async () => {
    problems.length = 0;
    raw.publish("Diagnostics.echo.Echo", validRequest);
    await raw.flush();
    while (problems.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(problems[0]).toContain("no reply subject");
    await serverStillAnswers();
  });
});

describe("subject injection", () => {
  it.each(["a.b", "*", ">", "a b", "a\tb", ""])(
    "a subject value %j is refused on the client before anything is sent",
    async (value) => {
      const client = createRpcClient(
        VaultEchoService,
        createNatsTransport({
          connection: raw,
          subjectValues: { owner_guid: value },
          allowUnsealed: true,
        }),
      );
      const error = await client.vaultEcho({}).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(error?.code).toBe(Code.InvalidArgument);
      expect(error?.rawMessage).toContain("{owner_guid}");
    },
  );

  it("a subject whose variable is not a valid token is answered with invalid_argument", async () => {
    const vault = await fixture.connect();
    const server = await serveNats({
      connection: vault,
      routes: (router) => router.service(VaultEchoService, createVaultEchoService()),
      allowUnsealed: true,
    });
    try {
      const reply = "OwnerSpace.0f6a7c52.forApp.rpc.test.1";
      const answered = new Promise<Msg>((resolve) => {
        raw.subscribe(reply, { max: 1, callback: (_, msg) => resolve(msg) });
      });
      await raw.flush();
      const h = headers();
      h.set("content-type", "application/proto");
      raw.publish("OwnerSpace.ünïcödé.forVault.echo.VaultEcho", new Uint8Array(), {
        reply,
        headers: h,
      });
      const error = errorOf(await answered);
      expect(error.code).toBe("invalid_argument");
      expect(error.message).toContain("not one valid token");
    } finally {
      await server.close();
    }
  });
});
