import { createConnection } from "node:net";
import { ErrorCode } from "../../gen/vettid/vsock/v1/frame_pb.js";
import {
  milliseconds,
  resolveConnectionOptions,
  type VsockConnectionOptions,
} from "./connection-options.js";
import { DEFAULT_CONNECT_TIMEOUT_MS } from "./limits.js";
import { createVsockConnection, type VsockConnection } from "./vsock-connection.js";
import { VsockError } from "./vsock-error.js";

/** Options of {@link connectVsock}. */
export interface VsockClientOptions extends VsockConnectionOptions {
  /** Path of the Unix socket the server listens on. */
  readonly path: string;
  /** See {@link DEFAULT_CONNECT_TIMEOUT_MS}. `0` waits without limit. */
  readonly connectTimeoutMs?: number;
}

/**
 * Connects to a vsock server's Unix socket. Rejects with an `UNAVAILABLE` VsockError naming the
 * path when nothing listens there or the connection does not complete in time.
 */
export function connectVsock(options: VsockClientOptions): Promise<VsockConnection> {
  const { path } = options;
  let timeoutMs: number;
  try {
    timeoutMs = milliseconds(
      "connectTimeoutMs",
      options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    );
    resolveConnectionOptions(options);
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let timer: NodeJS.Timeout | undefined;
    const fail = (reason: string, cause?: unknown) => {
      clearTimeout(timer);
      socket.destroy();
      reject(
        new VsockError(ErrorCode.UNAVAILABLE, `cannot connect to vsock socket ${path}: ${reason}`, {
          cause,
        }),
      );
    };
    const onError = (error: Error) => fail(error.message, error);
    if (timeoutMs > 0) {
      timer = setTimeout(() => fail(`no connection within ${timeoutMs} ms`), timeoutMs);
    }
    socket.once("error", onError);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", onError);
      resolve(createVsockConnection(socket, options));
    });
  });
}
