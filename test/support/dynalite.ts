/**
 * A real dynalite (DynamoDB's API on a local port, LevelDB underneath) for integration tests, on
 * a free loopback port, in memory or on disk. The backend's DynamoDB code runs against it through
 * the same SDK client it uses against AWS.
 */
import type { DynamoDB } from "@aws-sdk/client-dynamodb";
import { startLocalDynalite } from "../../server/local/local-dynalite.js";
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

/** Starts dynalite on a free port (tables are ACTIVE at once) and resolves once it listens. */
export async function startDynalite(options: DynaliteOptions = {}): Promise<DynaliteHandle> {
  const server = await startLocalDynalite(options.path === undefined ? {} : { path: options.path });
  const client = createDynamoClient({ endpoint: server.endpoint });
  return {
    endpoint: server.endpoint,
    client,
    async stop() {
      client.destroy();
      await server.close();
    },
  };
}
