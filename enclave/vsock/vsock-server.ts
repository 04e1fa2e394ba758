import { lstat, unlink } from "node:fs/promises";
import { createConnection, createServer, type Server } from "node:net";
import { ErrorCode } from "../../gen/vettid/vsock/v1/frame_pb.js";
import { resolveConnectionOptions, type VsockConnectionOptions } from "./connection-options.js";
import { createVsockConnection, type VsockConnection } from "./vsock-connection.js";
import { VsockError } from "./vsock-error.js";

/** Options of {@link listenVsock}. */
export interface VsockServerOptions extends VsockConnectionOptions {
  /** Path of the Unix socket to listen on. A stale socket file left there is removed first. */
  readonly path: string;
  /**
   * Called once per accepted connection, which it then serves (typically by iterating it). If it
   * throws or rejects, that connection is closed and `onError` told; others are unaffected.
   */
  readonly onConnection: (connection: VsockConnection) => void | Promise<void>;
}

/** A listening vsock server. */
export interface VsockServer {
  /** The socket path it listens on. */
  readonly path: string;
  /** The connections currently open. */
  readonly connections: ReadonlySet<VsockConnection>;
  /** Stops listening (removing the socket file), closes every connection, and waits for them. */
  close(): Promise<void>;
}

/**
 * Listens on a Unix socket and runs the vsock protocol on every accepted connection, each on its
 * own: a connection's bad frames, errors or handler failure close that connection only.
 */
export async function listenVsock(options: VsockServerOptions): Promise<VsockServer> {
  const { path, onConnection } = options;
  const connectionOptions = resolveConnectionOptions(options);
  const connections = new Set<VsockConnection>();
  await removeStaleSocket(path);

  const server = createServer((socket) => {
    const connection = createVsockConnection(socket, connectionOptions);
    connections.add(connection);
    void connection.closed.then(() => connections.delete(connection));
    const handlerFailed = (error: unknown) => {
      connectionOptions.onError(
        new VsockError(
          ErrorCode.INTERNAL,
          `vsock connection handler failed: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        ),
      );
      void connection.close();
    };
    try {
      Promise.resolve(onConnection(connection)).catch(handlerFailed);
    } catch (error) {
      handlerFailed(error);
    }
  });
  await listen(server, path);
  // Errors after listening (e.g. EMFILE on accept) concern one connection attempt, not the server.
  server.on("error", (error) =>
    connectionOptions.onError(
      new VsockError(ErrorCode.UNAVAILABLE, `vsock server on ${path}: ${error.message}`, {
        cause: error,
      }),
    ),
  );

  let closing: Promise<void> | undefined;
  return {
    path,
    connections,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all([...connections].map((connection) => connection.close()));
        await stopped;
      })();
      return closing;
    },
  };
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      reject(
        new Error(`cannot listen on vsock socket ${path}: ${error.message}`, { cause: error }),
      );
    };
    server.once("error", onError);
    server.listen(path, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

/**
 * Removes a socket file that no server answers on (left by a process that did not close its
 * listener). Refuses to touch a path that is not a socket, or one a live server listens on.
 */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  if (!isSocket) {
    throw new Error(`cannot listen on ${path}: it exists and is not a socket (not removing it)`);
  }
  if (await answers(path)) {
    throw new Error(`cannot listen on ${path}: another server is listening there`);
  }
  await unlink(path);
}

/** True when something accepts connections on the Unix socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}
