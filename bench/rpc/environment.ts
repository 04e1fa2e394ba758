import { createServer, type Http2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { connect, type NatsConnection } from "nats";
import { EchoService } from "../../gen/vettid/diagnostics/v1/echo_pb.js";
import { createEchoService } from "../../server/diagnostics/index.js";
import { startNatsServer } from "../../test/support/nats-server.js";

/** The servers every variant of the RPC benchmark shares, started once per run. */
export interface BenchEnvironment {
  /** `nats://127.0.0.1:PORT` of the run's nats-server. */
  readonly natsUrl: string;
  /** `http://127.0.0.1:PORT` of the HTTP/2 (h2c) server serving the echo service with Connect. */
  readonly http2BaseUrl: string;
  /** A new NATS connection, closed by {@link BenchEnvironment.close} if not closed before. */
  connect(name: string): Promise<NatsConnection>;
  /** Closes every connection, the HTTP/2 server and its sessions, and stops nats-server. */
  close(): Promise<void>;
}

/**
 * HTTP/2 flow-control window, per stream and per connection, on both ends. Node's default is the
 * protocol's 64 KiB, which would make 100 calls of 64 KiB wait on WINDOW_UPDATE frames rather than
 * measure Connect; 4 MiB lets HTTP/2 run at its best, as a tuned deployment would.
 */
export const HTTP2_WINDOW_BYTES = 4 * 1024 * 1024;

export async function startEnvironment(): Promise<BenchEnvironment> {
  const nats = await startNatsServer();
  const connections = new Set<NatsConnection>();

  const sessions = new Set<Http2Session>();
  const http2Server = createServer(
    { settings: { initialWindowSize: HTTP2_WINDOW_BYTES } },
    connectNodeAdapter({ routes: (router) => router.service(EchoService, createEchoService()) }),
  );
  http2Server.on("session", (session) => {
    session.setLocalWindowSize(HTTP2_WINDOW_BYTES);
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  await new Promise<void>((resolve, reject) => {
    http2Server.once("error", reject);
    http2Server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = http2Server.address() as AddressInfo;

  return {
    natsUrl: nats.url,
    http2BaseUrl: `http://127.0.0.1:${port}`,
    async connect(name) {
      const connection = await connect({ servers: nats.url, name: `bench-${name}` });
      connections.add(connection);
      void connection.closed().then(() => connections.delete(connection));
      return connection;
    },
    async close() {
      for (const connection of connections) await connection.close().catch(() => {});
      const closed = new Promise<void>((resolve) => http2Server.close(() => resolve()));
      for (const session of sessions) session.close();
      await closed;
      await nats.stop();
    },
  };
}
