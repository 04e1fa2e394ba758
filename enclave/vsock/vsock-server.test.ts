import { once } from "node:events";
import { existsSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode } from "../../gen/vettid/vsock/v1/frame_pb.js";
import { HealthRequestSchema } from "../../gen/vettid/vsock/v1/health_pb.js";
import { createFrame } from "./frame-body.js";
import { Arrivals, sampleBody, tempDir } from "./test-support.js";
import { connectVsock } from "./vsock-client.js";
import type { VsockConnection } from "./vsock-connection.js";
import { VsockError } from "./vsock-error.js";
import { listenVsock, type VsockServer } from "./vsock-server.js";

const health = { case: "healthRequest", value: create(HealthRequestSchema) } as const;

/** Answers health requests; fails the connection's handler on a metrics report. */
async function healthy(connection: VsockConnection): Promise<void> {
  for await (const frame of connection) {
    if (frame.body.case === "metricsReport") throw new Error("handler bug");
    if (frame.body.case === "healthRequest") {
      await connection.respond(frame, sampleBody("healthResponse"));
    }
  }
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

async function listen(path: string, onError?: (error: VsockError) => void): Promise<VsockServer> {
  const server = await listenVsock({ path, onConnection: healthy, onError });
  toClose.push(server);
  return server;
}

async function connect(path: string): Promise<VsockConnection> {
  const connection = await connectVsock({ path });
  toClose.push(connection);
  return connection;
}

describe("listenVsock", () => {
  it("replaces a stale socket file that nobody listens on", async () => {
    const path = join(dir, "supervisor.sock");
    // A socket file whose listener is gone: moved away from under a server that then closes.
    const other = createServer().listen(join(dir, "old.sock"));
    await once(other, "listening");
    await rename(join(dir, "old.sock"), path);
    await new Promise((resolve) => other.close(resolve));
    expect(existsSync(path)).toBe(true);

    await listen(path);
    const client = await connect(path);
    expect((await client.request(health)).body.case).toBe("healthResponse");
  });

  it("refuses a path where a server is listening, or that is not a socket", async () => {
    const path = join(dir, "supervisor.sock");
    await listen(path);
    await expect(listenVsock({ path, onConnection: healthy })).rejects.toThrow(
      `cannot listen on ${path}: another server is listening there`,
    );
    const file = join(dir, "notes.txt");
    await writeFile(file, "keep me");
    await expect(listenVsock({ path: file, onConnection: healthy })).rejects.toThrow(
      `cannot listen on ${file}: it exists and is not a socket (not removing it)`,
    );
    expect(existsSync(file)).toBe(true);
  });

  it("serves each connection on its own: a failing handler closes only its connection", async () => {
    const path = join(dir, "supervisor.sock");
    const errors = new Arrivals<VsockError>();
    const server = await listen(path, errors.push);
    const doomed = await connect(path);
    const fine = await connect(path);
    await doomed.send(createFrame(sampleBody("metricsReport")));
    await expect(doomed.closed).resolves.toBeUndefined();
    const error = await errors.next();
    expect(error.code).toBe(ErrorCode.INTERNAL);
    expect(error.message).toBe("vsock connection handler failed: handler bug");
    expect((await fine.request(health)).body.case).toBe("healthResponse");
    expect(server.connections.size).toBe(1);
  });

  it("closes every connection and removes its socket file on close()", async () => {
    const path = join(dir, "supervisor.sock");
    const server = await listenVsock({ path, onConnection: healthy });
    const clients = [await connect(path), await connect(path)];
    await Promise.all(clients.map((client) => client.request(health)));
    await server.close();
    for (const client of clients) await expect(client.closed).resolves.toBeUndefined();
    expect(server.connections.size).toBe(0);
    expect(existsSync(path)).toBe(false);
  });
});

describe("connectVsock", () => {
  it("fails with UNAVAILABLE naming the path when nothing listens there", async () => {
    const path = join(dir, "missing.sock");
    const error = await connectVsock({ path }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VsockError);
    expect((error as VsockError).code).toBe(ErrorCode.UNAVAILABLE);
    expect((error as VsockError).message).toMatch(
      new RegExp(`^cannot connect to vsock socket ${path}: connect ENOENT`),
    );
  });

  it("refuses invalid options before connecting", async () => {
    const path = join(dir, "any.sock");
    await expect(connectVsock({ path, requestTimeoutMs: -1 })).rejects.toThrow(
      "requestTimeoutMs must be an integer from 0 to 2147483647 ms, got -1",
    );
    await expect(connectVsock({ path, maxFrameBytes: 2 ** 25 })).rejects.toThrow(RangeError);
  });
});
