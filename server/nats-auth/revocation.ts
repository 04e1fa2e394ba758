import { type Account, type ClaimsData, decode, encodeAccount, type User } from "@nats-io/jwt";
import type { KeyPair } from "@nats-io/nkeys";
import { MAX_SERVICE_JWT_TTL_MS } from "./service-users.js";
import { requirePublicNkey, requireSigningKeyPair, toUnixSeconds } from "./validation.js";

/**
 * How long a revocation stays in the account JWT: the longest lifetime any user JWT of the account
 * can have (30 days, {@link MAX_SERVICE_JWT_TTL_MS}; members' are shorter) plus a day for clock
 * skew. A revocation at time T ends JWTs issued at or before T; once every such JWT has expired the
 * entry guards nothing, so dropping it keeps the account JWT (which every server holds) small.
 */
export const DEFAULT_REVOCATION_RETENTION_MS = MAX_SERVICE_JWT_TTL_MS + 24 * 60 * 60 * 1000;

/** Options of {@link revokeUsers}. */
export interface RevokeUsersOptions {
  /** The account JWT in force (as stored; the source of truth for the server configuration). */
  readonly accountJwt: string;
  /** The operator signing key that signed `accountJwt`; it signs the new one. */
  readonly operatorSigningKey: KeyPair;
  /** Public user nkeys (`U…`) to revoke: a device's key ends that device's member credentials. */
  readonly userPublicKeys: readonly string[];
  /** JWTs issued at or before this time (ms) are revoked. Default now. */
  readonly at?: number;
  /** Default {@link DEFAULT_REVOCATION_RETENTION_MS}. */
  readonly retentionMs?: number;
  /** Clock in ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/** The re-issued account JWT. */
export interface RevokedAccount {
  /** Store it (replacing the one revoked from), then push it to the servers ({@link pushAccountJwt}). */
  readonly accountJwt: string;
  /** The revocation list now in force: user public key -> revoked-at, s since the epoch. */
  readonly revocations: Readonly<Record<string, number>>;
}

/**
 * Revokes users: adds their public keys to the account JWT's `revocations` with the time, drops
 * entries older than the retention, and re-signs the account JWT with the operator's signing key.
 *
 * NATS revokes by key and time, not by `jti`: every JWT for that key issued at or before the time
 * (JWT `iat`, whole seconds) is refused at connect, and live connections using one are closed
 * once the server has the new account JWT. A JWT issued for the same key later (`iat` after the
 * revocation second) is accepted again; after revoking a lost device, issue only for a new key.
 *
 * How servers learn it: push the new JWT with {@link pushAccountJwt} (a system-account user asks
 * `$SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE`; nats-server 2.9.10's MEMORY resolver applies it at once
 * and drops revoked connections), and store it: a server started or reloaded later gets its
 * configuration from {@link operatorModeConfig}, whose `resolver_preload` must carry the latest
 * account JWT (a reload with a new preload, `nats-server --signal reload`, applies it too).
 *
 * Concurrent revocations must not overwrite each other: store the result with a conditional
 * write on the previous JWT (its `jti`).
 */
export async function revokeUsers(options: RevokeUsersOptions): Promise<RevokedAccount> {
  const signer = requireSigningKeyPair("operatorSigningKey", options.operatorSigningKey, "O");
  const claims = decodeAccountJwt(options.accountJwt);
  if (claims.iss !== signer.getPublicKey()) {
    throw new Error(
      `account JWT was signed by ${claims.iss}, not by the operator signing key given (${signer.getPublicKey()}); re-issue the account deliberately (createVettidAccount) after a signing key rotation`,
    );
  }
  if (options.userPublicKeys.length === 0) {
    throw new TypeError("userPublicKeys must name at least one user to revoke");
  }
  const nowMs = (options.now ?? Date.now)();
  const at = toUnixSeconds(options.at ?? nowMs);
  const retentionMs = options.retentionMs ?? DEFAULT_REVOCATION_RETENTION_MS;
  const keepFrom = toUnixSeconds(nowMs - retentionMs);

  const revocations: Record<string, number> = {};
  for (const [key, revokedAt] of Object.entries(claims.nats.revocations ?? {})) {
    if (revokedAt >= keepFrom) revocations[key] = revokedAt;
  }
  for (const [index, key] of options.userPublicKeys.entries()) {
    const userKey = requirePublicNkey(`userPublicKeys[${index}]`, key, "U");
    revocations[userKey] = Math.max(revocations[userKey] ?? 0, at);
  }
  const accountJwt = await encodeAccount(
    claims.name,
    claims.sub,
    { ...claims.nats, revocations },
    { signer, ...(claims.exp === undefined ? {} : { exp: claims.exp }) },
  );
  return { accountJwt, revocations };
}

/**
 * Whether the account JWT revokes this user JWT (the check nats-server makes: a revocation for the
 * user's key at or after the JWT's `iat`). For audits and tests; the server is what enforces it.
 */
export function isUserJwtRevoked(accountJwt: string, userJwt: string): boolean {
  const account = decodeAccountJwt(accountJwt);
  let user: ClaimsData<User>;
  try {
    user = decode<User>(userJwt);
  } catch (error) {
    throw new Error(`userJwt is not a valid NATS JWT: ${String(error)}`);
  }
  const revokedAt = account.nats.revocations?.[user.sub];
  return revokedAt !== undefined && user.iat <= revokedAt;
}

/** Decodes and verifies an account JWT (signature, type), naming what was wrong. */
export function decodeAccountJwt(accountJwt: string): ClaimsData<Account> {
  let claims: ClaimsData<Account>;
  try {
    claims = decode<Account>(accountJwt);
  } catch (error) {
    throw new Error(
      `account JWT is not a valid NATS JWT (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (claims.nats.type !== "account") {
    throw new Error(`expected an account JWT, got one of type ${JSON.stringify(claims.nats.type)}`);
  }
  return claims;
}
