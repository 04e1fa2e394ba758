import { Code, ConnectError } from "@connectrpc/connect";
import { connect, credsAuthenticator, type NatsConnection } from "nats";

/**
 * How long a cold start waits for NATS: 5 s. The HTTP call that needs NATS answers `unavailable`
 * after that rather than running into the Lambda's own timeout.
 */
export const DEFAULT_NATS_CONNECT_TIMEOUT_MS = 5_000;

/** Options of {@link createLazyNatsConnection}. */
export interface LazyNatsConnectionOptions {
  readonly servers: readonly string[];
  /** The `.creds` text (user JWT and seed) of the backend user. */
  readonly creds: string;
  /** Connection name in the server's monitoring. */
  readonly name: string;
  /** Default {@link DEFAULT_NATS_CONNECT_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
}

/** A NATS connection made on first use and kept across invocations of a warm Lambda. */
export interface LazyNatsConnection {
  /** The open connection; `unavailable` when NATS cannot be reached. */
  get(): Promise<NatsConnection>;
  close(): Promise<void>;
}

/**
 * Connects on first use rather than at cold start, so a function whose NATS is briefly
 * unreachable still starts and answers `unavailable` (retryable) instead of failing to
 * initialise; a closed connection is replaced on the next use.
 */
export function createLazyNatsConnection(options: LazyNatsConnectionOptions): LazyNatsConnection {
  let current: Promise<NatsConnection> | undefined;
  // The creds parser needs the line break after the last marker, which secret text may have lost.
  const creds = new TextEncoder().encode(`${options.creds.trimEnd()}\n`);
  return {
    async get() {
      const existing = current === undefined ? undefined : await current.catch(() => undefined);
      if (existing !== undefined && !existing.isClosed()) return existing;
      current = connect({
        servers: [...options.servers],
        name: options.name,
        authenticator: credsAuthenticator(creds),
        timeout: options.timeoutMs ?? DEFAULT_NATS_CONNECT_TIMEOUT_MS,
        maxReconnectAttempts: -1,
      });
      try {
        return await current;
      } catch (error) {
        current = undefined;
        throw new ConnectError(
          "NATS is unreachable right now",
          Code.Unavailable,
          undefined,
          undefined,
          error,
        );
      }
    },
    async close() {
      const existing = current === undefined ? undefined : await current.catch(() => undefined);
      current = undefined;
      await existing?.close();
    },
  };
}
