import { encodeAccount, type OperatorLimits } from "@nats-io/jwt";
import { createAccount as createAccountKey, type KeyPair } from "@nats-io/nkeys";
import { type MemberUserLimits, memberSigningKeyScope } from "./member-user.js";
import { requirePublicNkey, requireSigningKeyPair } from "./validation.js";

/** Name of the account that holds members, parents and backend services. */
export const VETTID_ACCOUNT_NAME = "VETTID";

/** Name of the system account nats-server uses for its own traffic (`$SYS.>`). */
export const SYSTEM_ACCOUNT_NAME = "SYS";

/**
 * Account-wide limits. In an account JWT an absent limit reads as 0, which nats-server enforces
 * (0 connections), so every limit is set: no account-wide cap on connections, subscriptions or
 * payload (members are bounded per user by their signing key's template, and the server by its own
 * `max_connections`/`max_payload`); no leaf-node connections (none are used); imports and exports
 * unlimited because only the operator's signing key can declare any (a cap would guard nothing and
 * could trip the imports nats-server adds itself); bearer tokens refused for every user of the
 * account, whatever a user JWT says. JetStream stays off (its limits are absent) until needed.
 */
export const DEFAULT_ACCOUNT_LIMITS: OperatorLimits = {
  conn: -1,
  subs: -1,
  payload: -1,
  data: -1,
  leaf: 0,
  imports: -1,
  exports: -1,
  wildcards: true,
  disallow_bearer: true,
};

/**
 * Limits of the system account: unlimited like the server's own `$SYS` (it carries server events
 * and the monitoring and resolver requests), bearer tokens refused.
 */
export const DEFAULT_SYSTEM_ACCOUNT_LIMITS: OperatorLimits = {
  conn: -1,
  subs: -1,
  payload: -1,
  data: -1,
  leaf: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  disallow_bearer: true,
};

/** The VETTID account: its keys and its JWT. */
export interface VettidAccount {
  readonly name: string;
  /** The account's identity (`A…`), the `sub` of its JWT and `issuer_account` of its users. */
  readonly publicKey: string;
  /** Identity key. Signs no user (only signing keys do); keep it offline like the operator's. */
  readonly identityKey: KeyPair;
  /**
   * Scoped signing key for members: can sign only member-shaped users
   * ({@link memberSigningKeyScope}). Held by the credential function (enrollment and refresh).
   */
  readonly memberSigningKey: KeyPair;
  /** Unscoped signing key for parents, backend services and operators' tools. Held by deployment. */
  readonly serviceSigningKey: KeyPair;
  /** The account JWT, signed by the operator's signing key. */
  readonly jwt: string;
}

/** Options of {@link createVettidAccount}. */
export interface CreateVettidAccountOptions {
  /** The operator's signing key (`O…`, with its seed). */
  readonly operatorSigningKey: KeyPair;
  /** Existing keys (to re-issue the JWT); each defaults to a new one. */
  readonly identityKey?: KeyPair;
  readonly memberSigningKey?: KeyPair;
  readonly serviceSigningKey?: KeyPair;
  /** Per-connection limits of members; defaults in `member-user.ts`. */
  readonly memberLimits?: Partial<MemberUserLimits>;
  /** Account-wide limits. Default {@link DEFAULT_ACCOUNT_LIMITS}. */
  readonly limits?: OperatorLimits;
  /** Revoked user keys (public key -> revoked-at, s since the epoch). Default none. */
  readonly revocations?: Readonly<Record<string, number>>;
}

/**
 * Creates (or re-issues) the VETTID account: one account for members, parents and backend
 * services, because they must reach each other's subjects (one account means no exports and
 * imports to keep in step; per-user permissions do the separating). Two signing keys keep what
 * each holder can sign apart: members' (scoped) and services' (unscoped).
 */
export async function createVettidAccount(
  options: CreateVettidAccountOptions,
): Promise<VettidAccount> {
  const operatorSigningKey = requireSigningKeyPair(
    "operatorSigningKey",
    options.operatorSigningKey,
    "O",
  );
  const identityKey = requireSigningKeyPair(
    "identityKey",
    options.identityKey ?? createAccountKey(),
    "A",
  );
  const memberSigningKey = requireSigningKeyPair(
    "memberSigningKey",
    options.memberSigningKey ?? createAccountKey(),
    "A",
  );
  const serviceSigningKey = requireSigningKeyPair(
    "serviceSigningKey",
    options.serviceSigningKey ?? createAccountKey(),
    "A",
  );
  const distinct = new Set(
    [identityKey, memberSigningKey, serviceSigningKey].map((k) => k.getPublicKey()),
  );
  if (distinct.size !== 3) {
    throw new TypeError(
      "identityKey, memberSigningKey and serviceSigningKey must be three different keys",
    );
  }
  const revocations: Record<string, number> = {};
  for (const [key, at] of Object.entries(options.revocations ?? {})) {
    revocations[requirePublicNkey("revocations key", key, "U")] = at;
  }
  const jwt = await encodeAccount(
    VETTID_ACCOUNT_NAME,
    identityKey.getPublicKey(),
    {
      limits: { ...(options.limits ?? DEFAULT_ACCOUNT_LIMITS) },
      signing_keys: [
        memberSigningKeyScope(memberSigningKey.getPublicKey(), options.memberLimits),
        serviceSigningKey.getPublicKey(),
      ],
      ...(Object.keys(revocations).length === 0 ? {} : { revocations }),
    },
    { signer: operatorSigningKey },
  );
  return {
    name: VETTID_ACCOUNT_NAME,
    publicKey: identityKey.getPublicKey(),
    identityKey,
    memberSigningKey,
    serviceSigningKey,
    jwt,
  };
}

/** The system account: its key and its JWT. */
export interface SystemAccount {
  readonly name: string;
  readonly publicKey: string;
  /**
   * Identity key; signs the few system users (the resolver-update user that pushes revocations).
   * No signing key: those users are issued by deployment, rarely.
   */
  readonly identityKey: KeyPair;
  readonly jwt: string;
}

/** Options of {@link createSystemAccount}. */
export interface CreateSystemAccountOptions {
  readonly operatorSigningKey: KeyPair;
  /** Existing identity key; default a new one. The operator JWT must name its public key. */
  readonly identityKey?: KeyPair;
}

/** Creates (or re-issues) the system account named by the operator JWT's `system_account`. */
export async function createSystemAccount(
  options: CreateSystemAccountOptions,
): Promise<SystemAccount> {
  const operatorSigningKey = requireSigningKeyPair(
    "operatorSigningKey",
    options.operatorSigningKey,
    "O",
  );
  const identityKey = requireSigningKeyPair(
    "identityKey",
    options.identityKey ?? createAccountKey(),
    "A",
  );
  const jwt = await encodeAccount(
    SYSTEM_ACCOUNT_NAME,
    identityKey.getPublicKey(),
    { limits: { ...DEFAULT_SYSTEM_ACCOUNT_LIMITS } },
    { signer: operatorSigningKey },
  );
  return { name: SYSTEM_ACCOUNT_NAME, publicKey: identityKey.getPublicKey(), identityKey, jwt };
}
