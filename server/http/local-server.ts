import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import { clientAddressKey } from "./client-address.js";
import { checkEdge } from "./edge-checks.js";
import type { HttpApi } from "./http-api.js";

/** Options of {@link startLocalHttpServer}. */
export interface LocalHttpServerOptions {
  readonly api: HttpApi;
  /** Port; default 0 (a free one). */
  readonly port?: number;
  /** Interface to listen on. Default `127.0.0.1`: the local stack is not for other machines. */
  readonly host?: string;
}

/** A running local HTTP server. */
export interface LocalHttpServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** Stops accepting requests and closes open connections. */
  close(): Promise<void>;
}

/**
 * Serves the HTTP API on a local port for development and tests (HTTP/1.1, no TLS): the same
 * router, services and edge checks as the Lambda adapter, through `connectNodeAdapter`.
 */
export async function startLocalHttpServer(
  options: LocalHttpServerOptions,
): Promise<LocalHttpServer> {
  const { api } = options;
  const adapter = connectNodeAdapter({
    ...api.routerOptions,
    routes: api.routes,
    contextValues: (request) =>
      createContextValues().set(clientAddressKey, request.socket?.remoteAddress),
  });
  const listener = (request: IncomingMessage, response: ServerResponse) => {
    const rejection = checkEdge(
      {
        method: request.method ?? "",
        path: (request.url ?? "").split("?", 1)[0] ?? "",
        header: nodeHeaders(request),
      },
      { procedures: api.procedures, maxRequestBytes: api.maxRequestBytes },
    );
    if (rejection === undefined) {
      adapter(request, response);
      return;
    }
    // Answer without reading a body the edge refused; the connection then closes.
    response.shouldKeepAlive = false;
    universalResponseToNodeResponse(rejection, response).catch(() => response.destroy());
  };
  const server = createServer(listener);
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address !== "object") throw new Error("HTTP server has no port");
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function nodeHeaders(request: IncomingMessage): Headers {
  const header = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    header.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return header;
}
