import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/**
 * The public procedures the page calls, and so the only ones the server forwards: the results
 * page reads; it never creates or closes proposals.
 */
export const ADMIN_PAGE_PROCEDURES: ReadonlySet<string> = new Set([
  "vettid.voting.v1.ProposalService/ListProposals",
  "vettid.voting.v1.ProposalService/GetProposal",
  "vettid.voting.v1.VoteListService/GetPublishedVoteList",
  "vettid.voting.v1.VoteListService/GetMerkleProof",
]);

/** Largest request body forwarded: 64 KiB, far above any of the page's requests. */
export const MAX_FORWARDED_REQUEST_BYTES = 64 * 1024;

/** Options of {@link startAdminServer}. */
export interface AdminServerOptions {
  /** Base URL of the backend's HTTP API (ProposalService, VoteListService), e.g. `http://127.0.0.1:8080`. */
  readonly backendUrl: string;
  /** The pinned org public keys (DER SPKI) the page verifies signatures with. */
  readonly orgKeys: readonly Uint8Array[];
  /** Port; default 0 (a free one). */
  readonly port?: number;
  /** Default `127.0.0.1`: a local tool. */
  readonly host?: string;
}

/** A running admin server. */
export interface AdminServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the admin results page on a local port: the page (`/`), its script bundled from the
 * TypeScript sources with esbuild at start (`/app.js`, the SDK's portable verification code
 * included), its configuration (`/config.json`: the pinned org keys), and `/api/<procedure>`,
 * which forwards the page's Connect JSON calls to the backend (read-only procedures only), so
 * the page and the API share an origin.
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const backend = new URL(options.backendUrl);
  const html = await readFile(new URL("./app/index.html", import.meta.url));
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL("./app/main.ts", import.meta.url))],
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    write: false,
    minify: true,
    logLevel: "silent",
  });
  const script = bundle.outputFiles[0]?.contents;
  if (script === undefined) throw new Error("esbuild produced no bundle");
  const config = JSON.stringify({
    orgKeys: options.orgKeys.map((key) => Buffer.from(key).toString("base64")),
  });

  const send = (
    response: ServerResponse,
    status: number,
    type: string,
    body: Uint8Array | string,
  ) => {
    response.writeHead(status, {
      "content-type": type,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "content-security-policy":
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:",
    });
    response.end(body);
  };

  const forward = async (request: IncomingMessage, response: ServerResponse, procedure: string) => {
    if (request.method !== "POST" || !ADMIN_PAGE_PROCEDURES.has(procedure)) {
      send(
        response,
        404,
        "application/json",
        JSON.stringify({ code: "not_found", message: "no such procedure" }),
      );
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of request) {
      length += (chunk as Buffer).length;
      if (length > MAX_FORWARDED_REQUEST_BYTES) {
        send(
          response,
          413,
          "application/json",
          JSON.stringify({ code: "resource_exhausted", message: "request too large" }),
        );
        return;
      }
      chunks.push(chunk as Buffer);
    }
    try {
      const answer = await fetch(new URL(`/${procedure}`, backend), {
        method: "POST",
        headers: { "content-type": "application/json", "connect-protocol-version": "1" },
        body: Buffer.concat(chunks),
      });
      send(
        response,
        answer.status,
        answer.headers.get("content-type") ?? "application/json",
        new Uint8Array(await answer.arrayBuffer()),
      );
    } catch {
      send(
        response,
        502,
        "application/json",
        JSON.stringify({ code: "unavailable", message: "the backend did not answer" }),
      );
    }
  };

  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?", 1)[0] ?? "/";
    if (path === "/" || path === "/index.html")
      send(response, 200, "text/html; charset=utf-8", html);
    else if (path === "/app.js") send(response, 200, "text/javascript; charset=utf-8", script);
    else if (path === "/config.json") send(response, 200, "application/json", config);
    else if (path.startsWith("/api/")) void forward(request, response, path.slice("/api/".length));
    else send(response, 404, "text/plain", "not found");
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address !== "object") throw new Error("admin server has no port");
  return {
    url: `http://${host}:${address.port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
