import { encodeUser } from "@nats-io/jwt";
import type { KeyPair } from "@nats-io/nkeys";
import { ErrorCode, type NatsConnection, type NatsError } from "nats";
import { type NatsPermissionSet, toJwtPermissions } from "./permissions.js";
import { decodeAccountJwt } from "./revocation.js";
import { requirePublicNkey, requireSigningKeyPair, toUnixSeconds } from "./validation.js";

/**
 * How long to wait for a server to confirm an account update: long enough for a loaded server,
 * short enough that a revocation that did not reach anyone is reported while the operator waits.
 */
export const DEFAULT_RESOLVER_UPDATE_TIMEOUT_MS = 5_000;

/**
 * Lifetime of the resolver-update user's JWT: an hour. It is issued for one revocation run (or one
 * deployment) and can replace any account JWT the operator signed, so it should not linger.
 */
export const DEFAULT_RESOLVER_UPDATE_JWT_TTL_MS = 60 * 60 * 1000;

/**
 * What the resolver-update user may do: ask servers to take a new account JWT, and receive their
 * answers. Nothing else in the system account (no server events, no monitoring).
 */
export const RESOLVER_UPDATE_PERMISSIONS: NatsPermissionSet = {
  publish: ["$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE"],
  subscribe: ["_INBOX.>"],
};

/** The subject nats-server listens on (system account) for a new JWT of one account. */
export function accountClaimsUpdateSubject(accountPublicKey: string): string {
  return `$SYS.REQ.ACCOUNT.${requirePublicNkey("accountPublicKey", accountPublicKey, "A")}.CLAIMS.UPDATE`;
}

/** Options of {@link issueResolverUpdateUser}. */
export interface IssueResolverUpdateUserOptions {
  /** The updater's public user nkey (`U…`). */
  readonly userPublicKey: string;
  /** The system account's identity key, with its seed. */
  readonly systemAccountKey: KeyPair;
  /** Default {@link DEFAULT_RESOLVER_UPDATE_JWT_TTL_MS}. */
  readonly ttlMs?: number;
  /** Clock in ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/** Issues the system-account user that pushes account JWTs ({@link RESOLVER_UPDATE_PERMISSIONS}). */
export async function issueResolverUpdateUser(
  options: IssueResolverUpdateUserOptions,
): Promise<string> {
  const userKey = requirePublicNkey("userPublicKey", options.userPublicKey, "U");
  const systemAccountKey = requireSigningKeyPair("systemAccountKey", options.systemAccountKey, "A");
  const ttlMs = options.ttlMs ?? DEFAULT_RESOLVER_UPDATE_JWT_TTL_MS;
  if (!Number.isInteger(ttlMs) || ttlMs < 1000) {
    throw new RangeError(`ttlMs must be a whole number of ms, at least 1000; got ${ttlMs}`);
  }
  return await encodeUser(
    "resolver-update",
    userKey,
    systemAccountKey,
    {
      ...toJwtPermissions(RESOLVER_UPDATE_PERMISSIONS),
      subs: -1,
      payload: -1,
      data: -1,
      bearer_token: false,
      allowed_connection_types: ["STANDARD"],
    },
    { exp: toUnixSeconds((options.now ?? Date.now)() + ttlMs) },
  );
}

/** What a server answers to an account update. */
interface ClaimsUpdateReply {
  readonly data?: { readonly code?: number; readonly message?: string };
  readonly error?: { readonly code?: number; readonly description?: string };
  readonly server?: { readonly name?: string };
}

/**
 * Hands a new account JWT (after {@link revokeUsers}) to the running servers over a connection of
 * the resolver-update user, and resolves once a server confirms it. nats-server verifies the JWT
 * (signed by a key of its trusted operator) before taking it; revoked users' connections are closed
 * at once. Checked on nats-server 2.9.10 with `resolver: MEMORY`.
 *
 * The MEMORY resolver keeps the update in memory only: the stored JWT must also reach the
 * configuration (`resolver_preload`) before any server restarts. In a cluster every server
 * subscribes and applies the update; this waits for the first answer.
 */
export async function pushAccountJwt(
  connection: NatsConnection,
  accountJwt: string,
  options: { readonly timeoutMs?: number } = {},
): Promise<void> {
  const claims = decodeAccountJwt(accountJwt);
  const subject = accountClaimsUpdateSubject(claims.sub);
  let answer: ClaimsUpdateReply;
  try {
    const reply = await connection.request(subject, new TextEncoder().encode(accountJwt), {
      timeout: options.timeoutMs ?? DEFAULT_RESOLVER_UPDATE_TIMEOUT_MS,
    });
    answer = reply.json<ClaimsUpdateReply>();
  } catch (error) {
    const code = (error as Partial<NatsError>).code;
    if (code === ErrorCode.NoResponders) {
      throw new Error(
        `no nats-server took the update of account ${claims.sub}: the connection must be a system-account user (issueResolverUpdateUser)`,
      );
    }
    if (code === ErrorCode.Timeout) {
      throw new Error(
        `no nats-server confirmed the update of account ${claims.sub} within the timeout`,
      );
    }
    throw error;
  }
  if (answer.error !== undefined || answer.data?.code !== 200) {
    const detail = answer.error?.description ?? answer.data?.message ?? JSON.stringify(answer);
    throw new Error(
      `nats-server ${answer.server?.name ?? "(unnamed)"} refused the JWT of account ${claims.sub}: ${detail}`,
    );
  }
}
