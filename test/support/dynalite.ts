/**
 * A real dynalite (DynamoDB's API on a local port, LevelDB underneath) for integration tests, on
 * a free loopback port, in memory or on disk. The backend's DynamoDB code runs against it through
 * the same SDK client it uses against AWS.
 */
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { DynamoDB } from "@aws-sdk/client-dynamodb";
import { createDynamoClient } from "../../server/storage/dynamo-client.js";

/** A running dynalite and a client for it. */
export interface DynaliteHandle {
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string;
  /** A client for this server (dummy credentials). */
  readonly client: DynamoDB;
  /** Closes the server and the client. */
  stop(): Promise<void>;
}

/** Options of {@link startDynalite}. */
export interface DynaliteOptions {
  /** Directory for the LevelDB store; default in memory. */
  readonly path?: string;
}

type DynaliteFactory = (options: Record<string, unknown>) => Server;
const dynalite = createRequire(import.meta.url)("dynalite") as DynaliteFactory;

/** Starts dynalite on a free port (tables are ACTIVE at once) and resolves once it listens. */
export async function startDynalite(options: DynaliteOptions = {}): Promise<DynaliteHandle> {
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path === undefined ? {} : { path: options.path }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address !== "object") throw new Error("dynalite has no port");
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = createDynamoClient({ endpoint });
  return {
    endpoint,
    client,
    async stop() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
