import { create, toBinary } from "@bufbuild/protobuf";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { type MsgHdrs, headers as natsHeaders } from "nats";
import { EchoRequestSchema, EchoService } from "../../gen/vettid/diagnostics/v1/echo_pb.js";
import { createNatsTransport, createRpcClient, HeaderName, serveNats } from "../../rpc/index.js";
import { createEchoService } from "../../server/diagnostics/index.js";
import type { BenchEnvironment } from "./environment.js";
import { ECHO_SUBJECT } from "./raw-nats.js";
import { CALL_TIMEOUT_MS, expectEcho, type Variant } from "./variant.js";

/**
 * "Where the time goes": variants that each add one part of the transport to raw NATS, so the
 * difference between two of them is the cost of that part.
 *
 * - raw NATS + headers: raw request/reply carrying the very NATS headers the transport sends and
 *   the server answers with (captured from a real call), so the cost of headers alone shows;
 * - transport client → raw responder: `createNatsTransport` against a responder that answers with
 *   the server's headers and the request bytes (an `EchoRequest` holding only `payload` encodes
 *   exactly as the `EchoResponse` echoing it): the client side alone;
 * - raw requester → serveNats: pre-encoded requests with the transport's headers sent to
 *   `serveNats`: the server side alone;
 * - Connect in memory: `createClient` over `createRouterTransport`, Connect's client and router
 *   with no I/O at all: the part of the cost that any Connect transport pays.
 */
export interface CapturedHeaders {
  /** Headers of the transport's request message, in order. */
  readonly request: readonly (readonly [string, string])[];
  /** Headers of serveNats's reply message, in order. */
  readonly response: readonly (readonly [string, string])[];
}

/** Makes one transport call to serveNats and records the NATS headers of both messages. */
export async function captureHeaders(env: BenchEnvironment): Promise<CapturedHeaders> {
  const serverConnection = await env.connect("capture-server");
  const clientConnection = await env.connect("capture-client");
  const spy = await env.connect("capture-spy");
  try {
    const server = await serveNats({
      connection: serverConnection,
      routes: (router) => router.service(EchoService, createEchoService()),
    });
    const seen = (subject: string) =>
      new Promise<MsgHdrs | undefined>((resolve) => {
        spy.subscribe(subject, { max: 1, callback: (_error, msg) => resolve(msg.headers) });
      });
    // A plain subscriber gets a copy of every request and, on `_INBOX.>`, of every reply.
    const request = seen(ECHO_SUBJECT);
    const reply = seen("_INBOX.>");
    await spy.flush();
    const client = createRpcClient(
      EchoService,
      createNatsTransport({ connection: clientConnection }),
    );
    await client.echo({ payload: new Uint8Array(256) }, { timeoutMs: CALL_TIMEOUT_MS });
    const captured = { request: pairs(await request), response: pairs(await reply) };
    await server.close();
    return captured;
  } finally {
    await spy.close();
    await clientConnection.close();
    await serverConnection.close();
  }
}

/** Bytes a header block takes on the wire (`NATS/1.0\r\n`, one line per value, blank line). */
export function headerBytes(headers: readonly (readonly [string, string])[]): number {
  let bytes = "NATS/1.0\r\n\r\n".length;
  for (const [name, value] of headers) bytes += `${name}: ${value}\r\n`.length;
  return bytes;
}

export function breakdownVariants(captured: CapturedHeaders): Variant[] {
  return [
    rawWithHeaders(captured),
    transportClientOnly(captured),
    serveNatsOnly(captured),
    connectInMemory(),
  ];
}

function rawWithHeaders(captured: CapturedHeaders): Variant {
  return {
    key: "raw_nats_headers",
    label: "raw NATS + transport's headers",
    async open(env) {
      const responder = await env.connect("headers-responder");
      const requester = await env.connect("headers-requester");
      const subscription = responder.subscribe(ECHO_SUBJECT, {
        callback: (_error, msg) => msg.respond(msg.data, { headers: toHeaders(captured.response) }),
      });
      await responder.flush();
      return {
        async echo(payload) {
          const reply = await requester.request(ECHO_SUBJECT, payload, {
            timeout: CALL_TIMEOUT_MS,
            headers: toHeaders(captured.request),
          });
          expectEcho(reply.data.length, payload.length);
        },
        async close() {
          subscription.unsubscribe();
          await requester.close();
          await responder.close();
        },
      };
    },
  };
}

function transportClientOnly(captured: CapturedHeaders): Variant {
  return {
    key: "transport_client_only",
    label: "transport client → raw responder",
    async open(env) {
      const responder = await env.connect("client-only-responder");
      const clientConnection = await env.connect("client-only-client");
      const subscription = responder.subscribe(ECHO_SUBJECT, {
        callback: (_error, msg) => msg.respond(msg.data, { headers: toHeaders(captured.response) }),
      });
      await responder.flush();
      const client = createRpcClient(
        EchoService,
        createNatsTransport({ connection: clientConnection }),
      );
      return {
        async echo(payload) {
          const response = await client.echo({ payload }, { timeoutMs: CALL_TIMEOUT_MS });
          expectEcho(response.payload.length, payload.length);
        },
        async close() {
          subscription.unsubscribe();
          await clientConnection.close();
          await responder.close();
        },
      };
    },
  };
}

function serveNatsOnly(captured: CapturedHeaders): Variant {
  return {
    key: "serve_nats_only",
    label: "raw requester → serveNats",
    async open(env) {
      const serverConnection = await env.connect("server-only-server");
      const requester = await env.connect("server-only-requester");
      const server = await serveNats({
        connection: serverConnection,
        routes: (router) => router.service(EchoService, createEchoService()),
      });
      const encoded = new WeakMap<Uint8Array, Uint8Array>();
      return {
        async echo(payload) {
          let body = encoded.get(payload);
          if (body === undefined) {
            body = toBinary(EchoRequestSchema, create(EchoRequestSchema, { payload }));
            encoded.set(payload, body);
          }
          const reply = await requester.request(ECHO_SUBJECT, body, {
            timeout: CALL_TIMEOUT_MS,
            headers: toHeaders(captured.request),
          });
          const status = reply.headers?.get(HeaderName.status);
          if (status !== "200") throw new Error(`serveNats answered with status ${status}`);
          expectEcho(reply.data.length, body.length);
        },
        async close() {
          await server.close();
          await requester.close();
          await serverConnection.close();
        },
      };
    },
  };
}

function connectInMemory(): Variant {
  return {
    key: "connect_in_memory",
    label: "Connect in memory (no I/O)",
    async open() {
      const client = createClient(
        EchoService,
        createRouterTransport((router) => router.service(EchoService, createEchoService())),
      );
      return {
        async echo(payload) {
          const response = await client.echo({ payload }, { timeoutMs: CALL_TIMEOUT_MS });
          expectEcho(response.payload.length, payload.length);
        },
        async close() {},
      };
    },
  };
}

function pairs(headers: MsgHdrs | undefined): [string, string][] {
  const out: [string, string][] = [];
  if (headers === undefined) return out;
  for (const name of headers.keys()) {
    for (const value of headers.values(name)) out.push([name, value]);
  }
  return out;
}

/** A new header block per message, as the transport builds one per message. */
function toHeaders(source: readonly (readonly [string, string])[]): MsgHdrs {
  const headers = natsHeaders();
  for (const [name, value] of source) headers.append(name, value);
  return headers;
}
