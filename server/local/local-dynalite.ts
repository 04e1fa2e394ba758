import type { Server } from "node:http";
import { createRequire } from "node:module";

/** A running dynalite: DynamoDB's API on a local port. */
export interface LocalDynalite {
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string;
  readonly port: number;
  /** Stops the server and closes its store. */
  close(): Promise<void>;
}

/** Options of {@link startLocalDynalite}. */
export interface LocalDynaliteOptions {
  /** Directory of the LevelDB store; default in memory. */
  readonly path?: string;
  /** Port; default 0 (a free one). */
  readonly port?: number;
  /**
   * How long new tables stay CREATING, ms. Default 0: dynalite's own 500 ms default imitates AWS
   * and only slows every fresh start and test.
   */
  readonly createTableMs?: number;
}

type DynaliteFactory = (options: Record<string, unknown>) => Server;

/**
 * Starts dynalite in this process on 127.0.0.1 (for `npm start` and the tests): the backend's
 * DynamoDB code talks to it through the same SDK client and requests as to AWS. With `path`, the
 * data is kept on disk across starts.
 */
export async function startLocalDynalite(
  options: LocalDynaliteOptions = {},
): Promise<LocalDynalite> {
  const dynalite = createRequire(import.meta.url)("dynalite") as DynaliteFactory;
  const createTableMs = options.createTableMs ?? 0;
  const server = dynalite({
    createTableMs,
    deleteTableMs: createTableMs,
    updateTableMs: createTableMs,
    ...(options.path === undefined ? {} : { path: options.path }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address !== "object") throw new Error("dynalite has no port");
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    port: address.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
