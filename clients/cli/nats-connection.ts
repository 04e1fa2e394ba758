import { readFile } from "node:fs/promises";
import { type Authenticator, connect, credsAuthenticator, type NatsConnection } from "nats";
import { CliError, EXIT_CODES, usageError } from "./exit-codes.js";
import type { CliIo } from "./output.js";

/** Where the CLI's NATS connections go when neither `--server` nor `VETTID_NATS_URL` says: the local stack. */
export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

/** How long to try to reach NATS before giving up: 5 s, then exit code 3. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Connects to NATS for a CLI command: `servers` (comma-separated URLs), authenticated with a NATS
 * `.creds` file (user JWT and nkey seed) when one is given. Fails with exit code 3 when no server
 * answers, 2 when the creds file cannot be read.
 */
export async function connectNats(options: {
  readonly servers: string;
  readonly credsFile?: string;
  readonly authenticator?: Authenticator;
  readonly name: string;
  readonly inboxPrefix?: string;
}): Promise<NatsConnection> {
  let authenticator = options.authenticator;
  if (options.credsFile !== undefined) {
    let creds: Uint8Array;
    try {
      creds = new Uint8Array(await readFile(options.credsFile));
    } catch {
      throw usageError(`cannot read NATS credentials ${options.credsFile}`);
    }
    if (!Buffer.from(creds).toString().includes("BEGIN NATS USER JWT")) {
      throw usageError(`${options.credsFile} is not a NATS .creds file (user JWT and nkey seed)`);
    }
    authenticator = credsAuthenticator(creds);
  }
  const servers = options.servers
    .split(",")
    .map((url) => url.trim())
    .filter((url) => url.length > 0);
  try {
    return await connect({
      servers,
      name: options.name,
      timeout: DEFAULT_CONNECT_TIMEOUT_MS,
      maxReconnectAttempts: 0,
      ...(authenticator === undefined ? {} : { authenticator }),
      ...(options.inboxPrefix === undefined ? {} : { inboxPrefix: options.inboxPrefix }),
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "AUTHORIZATION_VIOLATION" || code === "AUTHENTICATION_EXPIRED") {
      throw new CliError(`NATS refused the credentials (${code})`, EXIT_CODES.failed, "nats_auth", {
        cause: error,
      });
    }
    throw new CliError(
      `cannot reach NATS at ${servers.join(", ")}: ${(error as Error).message}`,
      EXIT_CODES.unavailable,
      "nats_unavailable",
      { cause: error },
    );
  }
}

/** The NATS URL option's default: `VETTID_NATS_URL`, else {@link DEFAULT_NATS_URL}. */
export function defaultNatsUrl(io: CliIo): string {
  return io.env.VETTID_NATS_URL ?? DEFAULT_NATS_URL;
}
