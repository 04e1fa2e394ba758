import type { Client, ConnectRouter } from "@connectrpc/connect";
import { type ConnectionOptions, connect, type NatsConnection } from "nats";
import { EchoService } from "../../gen/vettid/diagnostics/v1/echo_pb.js";
import {
  createNatsTransport,
  createRpcClient,
  type NatsTransportOptions,
  type ServeNatsOptions,
  serveNats,
} from "../../rpc/index.js";
import { createEchoService, type EchoServiceHooks } from "../../server/diagnostics/index.js";
import { type NatsServerHandle, startNatsServer } from "./nats-server.js";

/** A real nats-server, connections to it, and helpers to serve and call the echo service. */
export interface RpcFixture {
  readonly nats: NatsServerHandle;
  connect(options?: ConnectionOptions): Promise<NatsConnection>;
  serveEcho(
    connection: NatsConnection,
    hooks?: EchoServiceHooks,
    options?: Partial<ServeNatsOptions>,
  ): ReturnType<typeof serveNats>;
  echoClient(
    connection: NatsConnection,
    options?: Partial<NatsTransportOptions>,
  ): Client<typeof EchoService>;
  close(): Promise<void>;
}

export async function createRpcFixture(serverConfig?: string): Promise<RpcFixture> {
  const nats = await startNatsServer(serverConfig === undefined ? {} : { config: serverConfig });
  const connections: NatsConnection[] = [];
  const servers: { close(): Promise<void> }[] = [];
  return {
    nats,
    async connect(options = {}) {
      const connection = await connect({ servers: nats.url, ...options });
      connections.push(connection);
      return connection;
    },
    async serveEcho(connection, hooks = {}, options = {}) {
      const server = await serveNats({
        connection,
        routes: (router: ConnectRouter) => router.service(EchoService, createEchoService(hooks)),
        ...options,
      });
      servers.push(server);
      return server;
    },
    echoClient(connection, options = {}) {
      return createRpcClient(EchoService, createNatsTransport({ connection, ...options }));
    },
    async close() {
      for (const server of servers) await server.close().catch(() => {});
      for (const connection of connections) await connection.close().catch(() => {});
      await nats.stop();
    },
  };
}
