import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { universalResponseToNodeResponse } from "@connectrpc/connect-node";
import { checkEdge, tooLarge } from "./edge-checks.js";
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
 * Serves the HTTP API on a local port for development and tests (HTTP/1.1, no TLS), through the
 * very `api.handle` the Lambda adapter calls, with connect-node's response conversion. (Connect's
 * `connectNodeAdapter` is not used as the outer layer: it answers an unknown path with an empty
 * 404, and a request body that is not valid binary protobuf with 500 `internal`, because
 * Connect's serialization marks binary parse errors internal; the shared handler refuses both with
 * a JSON 4xx.) The body is read up to the API's limit and no further.
 */
export async function startLocalHttpServer(
  options: LocalHttpServerOptions,
): Promise<LocalHttpServer> {
  const { api } = options;
  const listener = (request: IncomingMessage, response: ServerResponse) => {
    const header = nodeHeaders(request);
    const rejection = checkEdge(
      { method: request.method ?? "", path: (request.url ?? "").split("?", 1)[0] ?? "", header },
      { procedures: api.procedures, maxRequestBytes: api.maxRequestBytes },
    );
    const answer = async () => {
      if (rejection !== undefined) return rejection;
      const body = await readBody(request, api.maxRequestBytes);
      if (body === undefined) return tooLarge(undefined, api.maxRequestBytes);
      const aborted = new AbortController();
      response.once("close", () => aborted.abort());
      return await api.handle({
        method: request.method ?? "",
        path: request.url ?? "",
        header,
        body,
        ...(request.socket.remoteAddress === undefined
          ? {}
          : { clientAddress: request.socket.remoteAddress }),
        signal: aborted.signal,
      });
    };
    answer()
      .then((universal) => {
        if (rejection !== undefined || request.readableLength > 0 || !request.readableEnded) {
          // A body the edge refused unread: do not keep the connection for the next request.
          response.shouldKeepAlive = false;
        }
        return universalResponseToNodeResponse(universal, response);
      })
      .catch(() => response.destroy());
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

/** The request body, or undefined once it passes `limit` bytes (reading stops there). */
async function readBody(request: IncomingMessage, limit: number): Promise<Uint8Array | undefined> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    length += chunk.byteLength;
    if (length > limit) return undefined;
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks, length));
}

function nodeHeaders(request: IncomingMessage): Headers {
  const header = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    header.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return header;
}
