/**
 * The backend as the integration tests run it, all real: nats-server in operator mode, dynalite
 * on a free port (tables created from server/storage/tables.ts), credential backups in a
 * directory, the real enclave (supervisor and parent, in-process) serving attestation and provisioning over NATS as a parent
 * user, and the backend (`startLocalBackend`: HTTP API, control audit worker, revocations). Each
 * test reaches the HTTP services through the local HTTP server and through the Lambda adapter.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import type { Transport } from "@connectrpc/connect";
import type { UniversalClientFn } from "@connectrpc/connect/protocol";
import { createTransport } from "@connectrpc/connect/protocol-connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createUser } from "@nats-io/nkeys";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { connect, jwtAuthenticator, type NatsConnection } from "nats";
import { type ControlKey, controlKeyFromSeed } from "../../clients/sdk/control/index.js";
import { createFilesystemBlobStore } from "../../enclave/storage/index.js";
import type { BackendRateLimits } from "../../server/backend/index.js";
import type { RecoveryNotice } from "../../server/credential-backup/index.js";
import { issueInvitation } from "../../server/enrollment/index.js";
import { type ApiGatewayHandler, createApiGatewayHandler } from "../../server/lambda/index.js";
import { type LocalBackend, startLocalBackend } from "../../server/local/index.js";
import {
  createNatsTrust,
  issueServiceUser,
  type NatsTrust,
  type ServiceRole,
} from "../../server/nats-auth/index.js";
import {
  createInvitationsTable,
  type DynamoContext,
  ensureTables,
  TABLES,
  type TableKey,
  tableName,
} from "../../server/storage/index.js";
import { type DynaliteHandle, startDynalite } from "../support/dynalite.js";
import { type NatsServerHandle, startNatsServer } from "../support/nats-server.js";
import { startTestEnclave, type TestEnclave } from "../support/test-enclave.js";
import { type AppClients, appClients } from "./member-app.js";

/** The two ways the HTTP API is served. */
export type Target = "local" | "lambda";
export const TARGETS: readonly Target[] = ["local", "lambda"];

/** A raw HTTP exchange, for inputs no Connect client would send. */
export interface RawRequest {
  readonly method?: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array | string;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

export interface BackendFixture {
  readonly nats: NatsServerHandle;
  readonly dynalite: DynaliteHandle;
  readonly dynamo: DynamoContext;
  readonly trust: NatsTrust;
  readonly enclave: TestEnclave;
  readonly backend: LocalBackend;
  readonly lambda: ApiGatewayHandler;
  /** The operator's control key, pinned by the audit worker as `test-operator`. */
  readonly controlKey: ControlKey;
  /** Recovery notices (with cancel tokens) the backend sent. */
  readonly notices: RecoveryNotice[];
  /** The services' clock: real time plus `offsetMs` (tests move it; reset after each test). */
  readonly clock: { offsetMs: number; now(): number };
  /** App clients over a target; `sourceIp` is the caller's address through the Lambda adapter. */
  clients(target: Target, options?: { json?: boolean; sourceIp?: string }): AppClients;
  /** A raw request to a target. */
  raw(target: Target, request: RawRequest, sourceIp?: string): Promise<RawResponse>;
  /** A fresh invitation code. */
  invite(): Promise<string>;
  /** A NATS connection as a service user of `role`. */
  serviceConnection(role: ServiceRole): Promise<NatsConnection>;
  /** Every item of every table, sorted, as text (to prove a request wrote nothing). */
  snapshot(tables?: readonly TableKey[]): Promise<string>;
  close(): Promise<void>;
}

const ENVIRONMENT = "test";

/** Starts everything; `rateLimits` lowers limits for the rate-limit tests. */
export async function startBackendFixture(
  options: { readonly rateLimits?: BackendRateLimits } = {},
): Promise<BackendFixture> {
  const trust = await createNatsTrust();
  const nats = await startNatsServer({ config: trust.serverConfig() });
  const dynalite = await startDynalite();
  const dynamo: DynamoContext = { client: dynalite.client, environment: ENVIRONMENT };
  await ensureTables(dynalite.client, ENVIRONMENT);
  const blobDir = await mkdtemp(join(tmpdir(), "vettid-blobs-"));
  const connections: NatsConnection[] = [];

  const serviceConnection = async (role: ServiceRole) => {
    const key = createUser();
    const { jwt } = await issueServiceUser({
      role,
      userPublicKey: key.getPublicKey(),
      accountPublicKey: trust.account.publicKey,
      signingKey: trust.account.serviceSigningKey,
      ...(role === "parent" ? { enclaveId: "enclave-test-1" } : {}),
    });
    const connection = await connect({
      servers: nats.url,
      authenticator: jwtAuthenticator(jwt, key.getSeed()),
    });
    connections.push(connection);
    return connection;
  };

  const enclave = await startTestEnclave(await serviceConnection("parent"));
  const controlKey = controlKeyFromSeed(
    "test-operator",
    crypto.getRandomValues(new Uint8Array(32)),
  );
  const clock = {
    offsetMs: 0,
    now() {
      return Date.now() + this.offsetMs;
    },
  };
  const notices: RecoveryNotice[] = [];
  const backend = await startLocalBackend({
    natsUrl: nats.url,
    trust,
    dynamo,
    blobs: createFilesystemBlobStore({ directory: blobDir }),
    enclaveTrust: enclave.trust,
    operatorKeys: new Map([["test-operator", { publicKey: controlKey.publicKey }]]),
    accountTokenKey: new Uint8Array(32).fill(7),
    now: () => clock.now(),
    onRecoveryNotice: (notice) => notices.push(notice),
    rateLimits: {
      issuancePerHour: 5,
      enrollStartPerAddressPerHour: 1000,
      enrollStartPerInvitationPerHour: 10,
      recoveryPerDay: 3,
      ...options.rateLimits,
    },
  });
  const lambda = createApiGatewayHandler(backend.api);

  const transport = (target: Target, json: boolean, sourceIp: string): Transport =>
    target === "local"
      ? createConnectTransport({ baseUrl: backend.url, httpVersion: "1.1", useBinaryFormat: !json })
      : createTransport({
          httpClient: lambdaHttpClient(lambda, sourceIp),
          baseUrl: "https://api.vettid.test",
          useBinaryFormat: !json,
          interceptors: [],
          acceptCompression: [],
          sendCompression: null,
          compressMinBytes: Number.MAX_SAFE_INTEGER,
          readMaxBytes: 4 * 1024 * 1024,
          writeMaxBytes: 4 * 1024 * 1024,
        });

  return {
    nats,
    dynalite,
    dynamo,
    trust,
    enclave,
    backend,
    lambda,
    controlKey,
    notices,
    clock,
    clients: (target, opts = {}) =>
      appClients(transport(target, opts.json ?? false, opts.sourceIp ?? "192.0.2.10")),
    async raw(target, request, sourceIp = "192.0.2.10") {
      const body =
        typeof request.body === "string"
          ? new TextEncoder().encode(request.body)
          : (request.body ?? new Uint8Array());
      if (target === "local") {
        const response = await fetch(`${backend.url}${request.path}`, {
          method: request.method ?? "POST",
          headers: request.headers ?? {},
          ...(request.method === "GET" || request.method === "HEAD"
            ? {}
            : { body: Buffer.from(body) }),
        });
        return { status: response.status, headers: response.headers, text: await response.text() };
      }
      const result = await lambda(
        apiGatewayEvent(
          request.method ?? "POST",
          request.path,
          request.headers ?? {},
          body,
          sourceIp,
        ),
      );
      const headers = new Headers(result.headers as Record<string, string>);
      const text = result.isBase64Encoded
        ? Buffer.from(result.body ?? "", "base64").toString("utf8")
        : (result.body ?? "");
      return { status: result.statusCode ?? 0, headers, text };
    },
    async invite() {
      return (await issueInvitation(createInvitationsTable(dynamo))).code;
    },
    serviceConnection,
    async snapshot(tables = Object.keys(TABLES) as TableKey[]) {
      const dump: Record<string, unknown[]> = {};
      for (const table of tables) {
        const output = await dynalite.client.send(
          new ScanCommand({ TableName: tableName(ENVIRONMENT, table), ConsistentRead: true }),
        );
        dump[table] = (output.Items ?? [])
          .map((item) =>
            JSON.stringify(item, (_k, v) =>
              v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v,
            ),
          )
          .sort();
      }
      return JSON.stringify(dump, null, 1);
    },
    async close() {
      await backend.stop();
      await enclave.close();
      for (const connection of connections) await connection.close().catch(() => {});
      await nats.stop();
      await dynalite.stop();
      await rm(blobDir, { recursive: true, force: true });
    },
  };
}

/** An API Gateway HTTP API (payload 2.0) event, as API Gateway builds it for a request. */
export function apiGatewayEvent(
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array,
  sourceIp: string,
): APIGatewayProxyEventV2 {
  const [rawPath = "", rawQueryString = ""] = path.split("?", 2);
  return {
    version: "2.0",
    routeKey: `${method} ${rawPath}`,
    rawPath,
    rawQueryString,
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    requestContext: {
      accountId: "123456789012",
      apiId: "api1",
      domainName: "api.vettid.test",
      domainPrefix: "api",
      http: { method, path: rawPath, protocol: "HTTP/1.1", sourceIp, userAgent: "vitest" },
      requestId: "req-1",
      routeKey: `${method} ${rawPath}`,
      stage: "$default",
      time: "01/Jan/2026:00:00:00 +0000",
      timeEpoch: 0,
    },
    ...(body.byteLength === 0 ? {} : { body: Buffer.from(body).toString("base64") }),
    isBase64Encoded: true,
  };
}

/** A Connect client HTTP function that hands each request to the Lambda handler as an event. */
export function lambdaHttpClient(handler: ApiGatewayHandler, sourceIp: string): UniversalClientFn {
  return async (request) => {
    const chunks: Uint8Array[] = [];
    for await (const chunk of request.body ?? []) chunks.push(chunk);
    const headers: Record<string, string> = {};
    request.header.forEach((value, name) => {
      headers[name] = value;
    });
    const url = new URL(request.url);
    const result = await handler(
      apiGatewayEvent(
        request.method,
        `${url.pathname}${url.search}`,
        headers,
        Buffer.concat(chunks),
        sourceIp,
      ),
    );
    const body = result.isBase64Encoded
      ? Buffer.from(result.body ?? "", "base64")
      : Buffer.from(result.body ?? "", "utf8");
    return {
      status: result.statusCode ?? 500,
      header: new Headers(result.headers as Record<string, string>),
      body: (async function* () {
        yield new Uint8Array(body);
      })(),
      trailer: new Headers(),
    };
  };
}
