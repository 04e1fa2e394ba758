import { once } from "node:events";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { setImmediate as turn } from "node:timers/promises";
import { create, equals, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ErrorCode,
  type Frame,
  FrameHeaderSchema,
  FrameSchema,
} from "../../gen/vettid/vsock/v1/frame_pb.js";
import { HealthRequestSchema } from "../../gen/vettid/vsock/v1/health_pb.js";
import { PublishNatsMessageSchema } from "../../gen/vettid/vsock/v1/nats_pb.js";
import {
  StorageGetRequestSchema,
  StorageGetResponseSchema,
  StorageOutcome,
} from "../../gen/vettid/vsock/v1/storage_pb.js";
import {
  createFrame,
  errorBody,
  type FrameBody,
  isRequestCase,
  RESPONSE_CASE,
  type RequestBody,
} from "./frame-body.js";
import { encodeFrame, FrameDecoder } from "./frame-codec.js";
import { DEFAULT_INBOUND_HIGH_WATER_BYTES, MAX_FRAME_BYTES } from "./limits.js";
import { Arrivals, concat, prefixed, sampleBodies, sampleBody, tempDir } from "./test-support.js";
import { connectVsock } from "./vsock-client.js";
import { createVsockConnection, type VsockConnection } from "./vsock-connection.js";
import { FrameDecodeError, VsockError } from "./vsock-error.js";
import { listenVsock, type VsockServer } from "./vsock-server.js";

const health = { case: "healthRequest", value: create(HealthRequestSchema) } as const;

function storageGet(key: string): Extract<RequestBody, { case: "storageGetRequest" }> {
  return { case: "storageGetRequest", value: create(StorageGetRequestSchema, { key }) };
}

function storageGot(version: string): FrameBody {
  return {
    case: "storageGetResponse",
    value: create(StorageGetResponseSchema, { outcome: StorageOutcome.OK, version }),
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

async function vsockRejection(promise: Promise<unknown>): Promise<VsockError> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(VsockError);
  return error as VsockError;
}

/** Reads a connection's frames into an Arrivals in the background. */
function collect(connection: VsockConnection): Arrivals<Frame> {
  const arrivals = new Arrivals<Frame>();
  void (async () => {
    for await (const frame of connection) arrivals.push(frame);
  })();
  return arrivals;
}

let dir: string;
let cleanup: () => Promise<void>;
const toClose: { close(): Promise<void> }[] = [];

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});

afterEach(async () => {
  await Promise.all(toClose.splice(0).map((item) => item.close()));
  await cleanup();
});

interface Served {
  server: VsockServer;
  path: string;
  accepted: Arrivals<VsockConnection>;
  errors: VsockError[];
}

/** A server whose connections are handed to the test as they are accepted. */
async function serve(
  onConnection?: (connection: VsockConnection) => void | Promise<void>,
): Promise<Served> {
  const path = join(dir, "supervisor.sock");
  const accepted = new Arrivals<VsockConnection>();
  const errors: VsockError[] = [];
  const server = await listenVsock({
    path,
    onError: (error) => errors.push(error),
    onConnection: (connection) => {
      accepted.push(connection);
      return onConnection?.(connection);
    },
  });
  toClose.push(server);
  return { server, path, accepted, errors };
}

async function connect(path: string): Promise<VsockConnection> {
  const connection = await connectVsock({ path });
  toClose.push(connection);
  return connection;
}

/** A plain socket to `path`, wrapped as a connection too so that raw bytes can be mixed in. */
async function connectRaw(path: string): Promise<{ socket: Socket; connection: VsockConnection }> {
  const socket = createConnection(path);
  await once(socket, "connect");
  const connection = createVsockConnection(socket);
  toClose.push(connection);
  return { socket, connection };
}

/** Writes and waits until the socket has taken the bytes. */
function writeRaw(socket: Socket, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.write(bytes, (error) => (error ? reject(error) : resolve())),
  );
}

/** Answers every request with a sample of its response kind; one-way frames are only kept. */
function answerEverything(received: Frame[]) {
  return async (connection: VsockConnection) => {
    for await (const frame of connection) {
      received.push(frame);
      const bodyCase = frame.body.case;
      if (isRequestCase(bodyCase)) {
        await connection.respond(frame, sampleBody(RESPONSE_CASE[bodyCase]));
      }
    }
  };
}

describe("a vsock connection over a Unix socket", () => {
  it("carries a frame of every body kind, field for field", async () => {
    const received: Frame[] = [];
    const { path, accepted } = await serve(answerEverything(received));
    const client = await connect(path);
    const clientInbound = collect(client);
    const serverSide = await accepted.next();

    const bodies = sampleBodies();
    const answerCases = new Set<string>(Object.values(RESPONSE_CASE));
    const sent: Frame[] = [];
    for (const body of bodies) {
      if (isRequestCase(body.case)) {
        const response = await client.request(body as RequestBody);
        const expected = sampleBody(RESPONSE_CASE[body.case]);
        expect(response.body.case).toBe(expected.case);
        expect(equals(FrameSchema, response, createFrame(expected, response.header))).toBe(true);
      } else if (!answerCases.has(body.case) && body.case !== "error") {
        const frame = createFrame(body, { correlationId: client.nextCorrelationId() });
        sent.push(frame);
        await client.send(frame);
      }
    }
    // Answered after everything before it, so the server has seen every frame sent.
    await client.request(health);
    expect(received.pop()?.body.case).toBe("healthRequest");
    // An ErrorFrame answering a one-way frame reaches the sender's iterator.
    const oneWay = sent[0] as Frame;
    const theirs = received.find((frame) => frame.body.case === oneWay.body.case) as Frame;
    await serverSide.respond(theirs, errorBody(ErrorCode.PERMISSION_DENIED, "subject refused"));
    const error = await clientInbound.next();
    expect(error.header?.correlationId).toBe(oneWay.header?.correlationId);
    expect(error.body).toMatchObject({
      case: "error",
      value: { code: ErrorCode.PERMISSION_DENIED, message: "subject refused" },
    });

    // Requests and one-way frames reached the server in the order sent, field for field.
    const expectedAtServer = bodies.filter(
      (body) => body.case !== "error" && !answerCases.has(body.case),
    );
    expect(expectedAtServer).toHaveLength(9);
    expect(received.map((frame) => frame.body.case)).toEqual(
      expectedAtServer.map((body) => body.case),
    );
    received.forEach((frame, index) => {
      const body = expectedAtServer[index] as FrameBody;
      expect(equals(FrameSchema, frame, createFrame(body, frame.header))).toBe(true);
    });
  });

  it("decodes frames written one byte at a time, and many frames written at once", async () => {
    const { path, accepted } = await serve();
    const { socket } = await connectRaw(path);
    const inbound = collect(await accepted.next());
    const frames = Array.from({ length: 3 }, (_, index) =>
      createFrame(sampleBody("deliverNatsMessage"), { correlationId: BigInt(index + 1) }),
    );
    const bytes = concat(frames.map((frame) => encodeFrame(frame)));
    for (let index = 0; index < bytes.length; index++) {
      await writeRaw(socket, bytes.subarray(index, index + 1));
    }
    for (const frame of frames) {
      expect(equals(FrameSchema, await inbound.next(), frame)).toBe(true);
    }
    const many = Array.from({ length: 300 }, (_, index) =>
      createFrame(sampleBody("publishNatsMessage"), { correlationId: BigInt(index + 100) }),
    );
    await writeRaw(socket, concat(many.map((frame) => encodeFrame(frame))));
    for (const frame of many) {
      expect(equals(FrameSchema, await inbound.next(), frame)).toBe(true);
    }
  });

  it("answers requests out of order to the right callers", async () => {
    const { path, accepted } = await serve();
    const client = await connect(path);
    const server = await accepted.next();
    const serverInbound = collect(server);
    const count = 100;
    const results = Array.from({ length: count }, (_, index) =>
      client.request(storageGet(`key-${index}`)),
    );
    const requests: Frame[] = [];
    for (let index = 0; index < count; index++) requests.push(await serverInbound.next());
    // Reverse, then interleave odd and even, so no response follows its request's order.
    const order = requests.reverse().sort((a, b) => {
      const parity = (frame: Frame) => Number((frame.header?.correlationId ?? 0n) % 2n);
      return parity(a) - parity(b);
    });
    await Promise.all(
      order.map((frame) => {
        const key = frame.body.case === "storageGetRequest" ? frame.body.value.key : "?";
        return server.respond(frame, storageGot(`version-of-${key}`));
      }),
    );
    const responses = await Promise.all(results);
    responses.forEach((response, index) => {
      expect(response.body.value.version).toBe(`version-of-key-${index}`);
    });
    expect(client.pendingRequests).toBe(0);
  });

  it("keeps each side's correlation ids apart: both sides' request 1 in flight at once", async () => {
    const { path, accepted } = await serve();
    const client = await connect(path);
    const server = await accepted.next();
    const clientInbound = collect(client);
    const serverInbound = collect(server);
    const fromClient = client.request(storageGet("asked-by-client"));
    const fromServer = server.request(health);
    const atServer = await serverInbound.next();
    const atClient = await clientInbound.next();
    expect(atServer.header?.correlationId).toBe(1n);
    expect(atClient.header?.correlationId).toBe(1n);
    await client.respond(atClient, sampleBody("healthResponse"));
    await server.respond(atServer, storageGot("v1"));
    expect((await fromClient).body.value.version).toBe("v1");
    expect((await fromServer).body.case).toBe("healthResponse");
  });

  it("times out a request without an answer, drops the late answer, and carries on", async () => {
    const { path, accepted } = await serve();
    const client = await connect(path);
    const clientInbound = collect(client);
    const server = await accepted.next();
    const serverInbound = collect(server);

    const error = await vsockRejection(client.request(health, { timeoutMs: 20 }));
    expect(error.code).toBe(ErrorCode.DEADLINE_EXCEEDED);
    expect(error.remote).toBe(false);
    expect(error.message).toBe("no response to healthRequest (correlation id 1) within 20 ms");
    expect(client.pendingRequests).toBe(0);

    const request = await serverInbound.next();
    expect(request.header?.deadlineAtMs).toBeGreaterThan(0n);
    await server.respond(request, sampleBody("healthResponse"));
    const next = client.request(storageGet("after"));
    await server.respond(await serverInbound.next(), storageGot("fresh"));
    expect((await next).body.value.version).toBe("fresh");
    // The late answer arrived before this one on the same stream and went nowhere.
    expect(clientInbound.length).toBe(0);
  });

  it("sends no deadline and waits without limit when timeoutMs is 0", async () => {
    const { path, accepted } = await serve();
    const client = await connect(path);
    const serverInbound = collect(await accepted.next());
    const result = vsockRejection(client.request(health, { timeoutMs: 0 }));
    const request = await serverInbound.next();
    expect(request.header?.deadlineAtMs).toBe(0n);
    await client.close();
    expect((await result).code).toBe(ErrorCode.UNAVAILABLE);
  });

  it("abandons a request when its signal aborts", async () => {
    const { path, accepted } = await serve();
    const client = await connect(path);
    const serverInbound = collect(await accepted.next());
    const controller = new AbortController();
    const result = rejection(client.request(health, { signal: controller.signal }));
    await serverInbound.next();
    controller.abort(new Error("caller gave up"));
    expect(((await result) as Error).message).toBe("caller gave up");
    expect(client.pendingRequests).toBe(0);
    // An already aborted signal sends nothing.
    const reason = await rejection(client.request(health, { signal: controller.signal }));
    expect((reason as Error).message).toBe("caller gave up");
    const probe = rejection(client.request(storageGet("probe")));
    const next = await serverInbound.next();
    expect(next.body.case).toBe("storageGetRequest");
    await client.close();
    await probe;
  });

  it("fails pending requests when the peer closes, and when this side closes", async () => {
    const { path, accepted } = await serve();
    const client = await connect(path);
    const server = await accepted.next();
    const serverInbound = collect(server);
    const first = vsockRejection(client.request(health));
    const second = vsockRejection(client.request(storageGet("k")));
    await serverInbound.next();
    await serverInbound.next();
    await server.close();
    for (const result of [first, second]) {
      const error = await result;
      expect(error.code).toBe(ErrorCode.UNAVAILABLE);
      expect(error.message).toMatch(/correlation id [12]\): connection closed by the peer$/);
    }
    await expect(client.closed).resolves.toBeUndefined();
    expect(client.isClosed).toBe(true);
    const late = await vsockRejection(client.send(createFrame(sampleBody("metricsReport"))));
    expect(late.message).toBe("cannot send: the vsock connection is closed");

    const other = await connect(path);
    const pending = vsockRejection(other.request(health));
    await other.close();
    expect((await pending).message).toBe(
      "no response to healthRequest (correlation id 1): connection closed by this side",
    );
  });

  it("closes the connection when its reader leaves the loop early", async () => {
    const { path, accepted } = await serve(async (connection) => {
      for await (const _ of connection) break;
    });
    const client = await connect(path);
    await accepted.next();
    await client.send(createFrame(sampleBody("metricsReport")));
    await expect(client.closed).resolves.toBeUndefined();
  });

  it("refuses to send what the peer would refuse, and stays usable", async () => {
    const received: Frame[] = [];
    const { path } = await serve(answerEverything(received));
    const client = await connect(path);
    const big = sampleBody("storagePutRequest");
    big.value.data = new Uint8Array(MAX_FRAME_BYTES);
    const error = await vsockRejection(client.request(big));
    expect(error.code).toBe(ErrorCode.FRAME_TOO_LARGE);
    expect(error.message).toMatch(
      /^storagePutRequest frame of \d+ bytes exceeds the maximum of 16777216 bytes$/,
    );
    expect(client.pendingRequests).toBe(0);
    expect((await client.request(health)).body.case).toBe("healthResponse");

    await expect(client.request(sampleBody("publishNatsMessage") as never)).rejects.toThrow(
      /^request\(\) sends storageGetRequest, .*; got publishNatsMessage/,
    );
    const request = createFrame(health, { correlationId: 5n });
    await expect(client.respond(request, storageGot("v"))).rejects.toThrow(
      "healthRequest is answered with healthResponse or an ErrorFrame, not storageGetResponse",
    );
    // A frame with correlation id 0 wants no reply: nothing is sent.
    await client.respond(createFrame(health), sampleBody("healthResponse"));
  });
});

describe("bad input from the peer", () => {
  it("closes a connection that announces an oversized frame; other connections keep working", async () => {
    const served = await serve(async (connection) => {
      for await (const frame of connection) {
        const body = frame.body;
        if (body.case === "storageGetRequest" && body.value.key === "hold") continue;
        if (isRequestCase(body.case)) {
          await connection.respond(frame, sampleBody(RESPONSE_CASE[body.case]));
        }
      }
    });
    const bad = await connectRaw(served.path);
    const badServerSide = await served.accepted.next();
    const good = await connect(served.path);
    const held = vsockRejection(bad.connection.request(storageGet("hold")));
    expect((await bad.connection.request(health)).body.case).toBe("healthResponse");

    // Only the prefix: the server must refuse before any body arrives.
    await writeRaw(bad.socket, prefixed(new Uint8Array(0), MAX_FRAME_BYTES + 1));

    const local = await badServerSide.closed;
    expect(local).toBeInstanceOf(FrameDecodeError);
    expect((local as FrameDecodeError).problem).toBe("too-large");
    const remote = await bad.connection.closed;
    expect(remote?.remote).toBe(true);
    expect(remote?.code).toBe(ErrorCode.FRAME_TOO_LARGE);
    expect(remote?.message).toBe(
      "peer reported FRAME_TOO_LARGE for the connection: frame length 16777217 exceeds the maximum of 16777216 bytes",
    );
    const heldError = await held;
    expect(heldError.code).toBe(ErrorCode.UNAVAILABLE);
    expect(heldError.cause).toBe(remote);

    expect((await good.request(health)).body.case).toBe("healthResponse");
    const another = await connect(served.path);
    expect((await another.request(storageGet("k"))).body.case).toBe("storageGetResponse");
    expect(served.server.connections.size).toBe(2);
  });

  it("answers an undecodable request with an ErrorFrame and keeps the connection", async () => {
    const served = await serve(answerEverything([]));
    const { socket, connection } = await connectRaw(served.path);
    const inbound = collect(connection);
    const request = toBinary(FrameSchema, createFrame(storageGet("k"), { correlationId: 77n }));
    await writeRaw(socket, prefixed(request.subarray(0, request.length - 1)));

    const answer = await inbound.next();
    expect(answer.header?.correlationId).toBe(77n);
    expect(answer.body.case).toBe("error");
    if (answer.body.case !== "error") return;
    expect(answer.body.value.code).toBe(ErrorCode.MALFORMED_FRAME);
    expect(answer.body.value.message).toMatch(
      /^storageGetRequest of \d+ bytes is not a valid vettid\.vsock\.v1\.Frame: premature EOF$/,
    );
    const [logged] = served.errors;
    expect(logged).toBeInstanceOf(FrameDecodeError);
    expect((logged as FrameDecodeError).problem).toBe("undecodable");

    // An unknown body is answered too, with UNSUPPORTED_BODY.
    const unknown = new BinaryWriter()
      .tag(1, WireType.LengthDelimited)
      .bytes(
        toBinary(
          FrameHeaderSchema,
          create(FrameHeaderSchema, { protocolVersion: 1, correlationId: 78n }),
        ),
      )
      .tag(99, WireType.LengthDelimited)
      .bytes(new Uint8Array([1]))
      .finish();
    await writeRaw(socket, prefixed(unknown));
    const unsupported = await inbound.next();
    expect(unsupported.header?.correlationId).toBe(78n);
    expect(unsupported.body.value).toMatchObject({ code: ErrorCode.UNSUPPORTED_BODY });

    expect((await connection.request(health)).body.case).toBe("healthResponse");
    expect(connection.isClosed).toBe(false);
  });

  it("stops reading a peer that floods bad frames without reading the answers", async () => {
    const served = await serve(answerEverything([]));
    const socket = createConnection(served.path);
    await once(socket, "connect");
    socket.pause();
    const count = 30_000;
    // Each a request whose body is cut short: answered with an ErrorFrame of about 90 bytes.
    const bad = prefixed(
      toBinary(FrameSchema, createFrame(health, { correlationId: 1n })).subarray(0, 7),
    );
    expect(bad.length).toBe(11);
    const flood = concat(Array.from({ length: count }, () => bad));
    socket.write(flood);
    // With the answers unread, the server stops reading long before the flood's end
    // (30,000 answers are some 2.5 MB; socket buffers hold far less).
    let seen = -1;
    while (served.errors.length === 0) await turn();
    while (seen !== served.errors.length) {
      seen = served.errors.length;
      for (let index = 0; index < 50; index++) await turn();
    }
    expect(served.errors.length).toBeGreaterThan(0);
    expect(served.errors.length).toBeLessThan(count);
    // Once the peer reads, every bad frame is answered.
    const decoder = new FrameDecoder();
    let answers = 0;
    for await (const chunk of socket) {
      for (const result of decoder.push(chunk as Buffer)) {
        if (result.frame?.body.case === "error") answers++;
      }
      if (answers === count) break;
    }
    expect(answers).toBe(count);
    expect(served.errors.length).toBe(count);
    socket.destroy();
  });

  it("closes, after saying why, a connection whose peer speaks another protocol version", async () => {
    const served = await serve(answerEverything([]));
    const { socket, connection } = await connectRaw(served.path);
    const frame = createFrame(health, { correlationId: 3n });
    (frame.header as { protocolVersion: number }).protocolVersion = 2;
    await writeRaw(socket, prefixed(toBinary(FrameSchema, frame)));
    const reason = await connection.closed;
    expect(reason?.code).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(reason?.message).toBe(
      "peer reported UNSUPPORTED_VERSION for the connection: frame has protocol_version 2; this side supports 1",
    );
  });
});

describe("a misbehaving answerer", () => {
  /** A bare socket server standing in for a parent that sends whatever the test says. */
  async function rawPeer(): Promise<{ path: string; socket: Promise<Socket>; server: Server }> {
    const path = join(dir, "raw.sock");
    const server = createServer();
    const socket = once(server, "connection").then(([accepted]) => accepted as Socket);
    server.listen(path);
    await once(server, "listening");
    toClose.push({
      close: async () => {
        (await socket).destroy();
        await new Promise((resolve) => server.close(resolve));
      },
    });
    return { path, socket, server };
  }

  function readFrames(socket: Socket): Arrivals<Frame> {
    const arrivals = new Arrivals<Frame>();
    const decoder = new FrameDecoder();
    socket.on("data", (chunk: Buffer) => {
      for (const result of decoder.push(chunk)) {
        if (result.frame !== undefined) arrivals.push(result.frame);
      }
    });
    return arrivals;
  }

  it("fails the request an undecodable response was for, without answering the answer", async () => {
    const peer = await rawPeer();
    const client = await connect(peer.path);
    const socket = await peer.socket;
    const frames = readFrames(socket);

    const result = vsockRejection(client.request(storageGet("k")));
    const request = await frames.next();
    const response = toBinary(
      FrameSchema,
      createFrame(storageGot("v"), { correlationId: request.header?.correlationId }),
    );
    await writeRaw(socket, prefixed(response.subarray(0, response.length - 1)));
    const error = await result;
    expect(error).toBeInstanceOf(FrameDecodeError);
    expect((error as FrameDecodeError).bodyCase).toBe("storageGetResponse");
    expect(error.code).toBe(ErrorCode.MALFORMED_FRAME);
    expect(error.correlationId).toBe(1n);

    // The next frame the peer sees is the next request: no ErrorFrame was sent for the answer.
    const next = vsockRejection(client.request(health));
    const seen = await frames.next();
    expect(seen.body.case).toBe("healthRequest");
    await writeRaw(socket, encodeFrame(createFrame(storageGot("wrong kind"), seen.header)));
    const wrongKind = await next;
    expect(wrongKind.code).toBe(ErrorCode.UNSUPPORTED_BODY);
    expect(wrongKind.message).toBe(
      "peer answered healthRequest (correlation id 2) with storageGetResponse; expected healthResponse",
    );

    const refused = vsockRejection(client.request(storageGet("denied")));
    const third = await frames.next();
    await writeRaw(
      socket,
      encodeFrame(
        createFrame(errorBody(ErrorCode.PERMISSION_DENIED, "key outside the prefix"), third.header),
      ),
    );
    const denied = await refused;
    expect(denied.remote).toBe(true);
    expect(denied.code).toBe(ErrorCode.PERMISSION_DENIED);
    expect(denied.message).toBe(
      "peer failed storageGetRequest (correlation id 3) with PERMISSION_DENIED: key outside the prefix",
    );
    expect(client.isClosed).toBe(false);
  });
});

describe("backpressure", () => {
  it("delivers a burst of 5,000 frames of 64 KiB complete and in order, with bounded buffers", async () => {
    const count = 5000;
    const payload = new Uint8Array(64 * 1024);
    const { path, accepted } = await serve();
    const { socket, connection: client } = await connectRaw(path);
    const server = await accepted.next();

    let maxWriteBuffer = 0;
    const sending = (async () => {
      for (let index = 0; index < count; index++) {
        payload[0] = index & 0xff;
        payload[payload.length - 1] = (index >> 8) & 0xff;
        await client.send(
          createFrame({
            case: "publishNatsMessage",
            value: create(PublishNatsMessageSchema, { subject: `burst.${index}`, data: payload }),
          }),
        );
        maxWriteBuffer = Math.max(maxWriteBuffer, socket.writableLength);
      }
    })();

    // Do not read until the queue has reached its high-water mark, then let the sender run on.
    while (server.bufferedInboundBytes < DEFAULT_INBOUND_HIGH_WATER_BYTES) await turn();
    for (let index = 0; index < 200; index++) await turn();
    let maxInbound = server.bufferedInboundBytes;
    let received = 0;
    for await (const frame of server) {
      maxInbound = Math.max(maxInbound, server.bufferedInboundBytes);
      const body = frame.body;
      if (body.case !== "publishNatsMessage") throw new Error(`unexpected ${body.case}`);
      expect(body.value.subject).toBe(`burst.${received}`);
      expect(body.value.data.length).toBe(payload.length);
      expect(body.value.data[0]).toBe(received & 0xff);
      expect(body.value.data[payload.length - 1]).toBe((received >> 8) & 0xff);
      received++;
      // A slow reader: yield to the event loop now and then so the queue can fill.
      if (received % 64 === 0) await turn();
      if (received === count) break;
    }
    await sending;
    expect(received).toBe(count);
    // The sender never handed the socket more than its high-water mark plus one frame.
    expect(maxWriteBuffer).toBeLessThanOrEqual(socket.writableHighWaterMark + 70 * 1024);
    // The receiver stopped reading at its high-water mark instead of buffering 320 MiB: what it
    // holds beyond the mark is at most the frames of the socket read that crossed it.
    expect(maxInbound).toBeGreaterThanOrEqual(DEFAULT_INBOUND_HIGH_WATER_BYTES);
    expect(maxInbound).toBeLessThan(DEFAULT_INBOUND_HIGH_WATER_BYTES + 256 * 1024);
  });
});
