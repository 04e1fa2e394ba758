import { create } from "@bufbuild/protobuf";
import { type ConnectionType, decode, encodeUser, type SigningKey } from "@nats-io/jwt";
import type { KeyPair } from "@nats-io/nkeys";
import {
  type NatsCredentials,
  NatsCredentialsSchema,
} from "../../gen/vettid/enrollment/v1/nats_credentials_pb.js";
import {
  fillPermissionSet,
  type NatsPermissionSet,
  toJwtPermissions,
  toNatsPermissionsMessage,
} from "./permissions.js";
import { createIssuanceRateLimiter, type IssuanceRateLimiter } from "./rate-limit.js";
import {
  requirePublicNkey,
  requireSigningKeyPair,
  requireSubjectToken,
  toUnixSeconds,
} from "./validation.js";

/**
 * Lifetime of a member's user JWT: a day. Revocation cuts a device off at once; the lifetime bounds
 * what a missed or failed revocation can cost, and how long revocations must be kept in the account
 * JWT. The app refreshes over HTTPS (device proof) when a fifth remains, so a day means one refresh
 * a day in normal use rather than one per app start.
 */
export const DEFAULT_MEMBER_JWT_TTL_MS = 24 * 60 * 60 * 1000;

/** Shortest lifetime accepted: below a minute, clock skew alone could refuse a fresh JWT. */
export const MIN_MEMBER_JWT_TTL_MS = 60 * 1000;

/**
 * Longest lifetime accepted: a week. Revocations are kept for as long as the longest-lived JWT
 * they revoke ({@link DEFAULT_REVOCATION_RETENTION_MS}), so this bounds that too.
 */
export const MAX_MEMBER_JWT_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Subscriptions one member connection may hold. The SDK needs a handful (one reply inbox per
 * prefix, the forApp events, eventTypes, two broadcasts); 64 leaves room for per-event
 * subscriptions and reconnect churn while bounding what one device can cost the server.
 */
export const DEFAULT_MEMBER_MAX_SUBSCRIPTIONS = 64;

/**
 * Largest message a member may publish: 512 KiB. The largest field a member sends is a 256 KiB
 * avatar (`vettid.vault.v1` UpdateProfile); twice that covers the sealed envelope and headers,
 * and stays half of nats-server's default 1 MiB `max_payload`.
 */
export const DEFAULT_MEMBER_MAX_PAYLOAD_BYTES = 512 * 1024;

/**
 * The JWT `data` limit for members: -1 (none). nats-server applies only `subs` and `payload` to a
 * client connection (checked on 2.9.10: publishing past a `data` limit is not refused), so a number
 * here would promise a limit nobody enforces. Payload and subscription limits, the account limits
 * and issuance rate limiting are what bound a member.
 */
export const DEFAULT_MEMBER_MAX_DATA_BYTES = -1;

/**
 * How a member may connect: plain NATS (TCP, with TLS in production). The apps use native NATS
 * clients; WebSocket, MQTT and leaf-node connections are refused until a client needs one.
 */
export const DEFAULT_MEMBER_CONNECTION_TYPES: readonly ConnectionType[] = ["STANDARD"];

/** Role name of the member signing key in the account JWT (`nsc`-style scoped signing key). */
export const MEMBER_SIGNING_KEY_ROLE = "member";

/**
 * What a member's app may do on NATS, derived from `docs/subjects.md` (party `app`); `{owner_guid}`
 * is the member's own GUID. `test/nats-auth/permissions-schema.test.ts` checks it against the
 * schema both ways: everything the schema gives `app` is allowed, and nothing here lacks a reason
 * in the schema.
 */
export const MEMBER_PERMISSIONS: NatsPermissionSet = {
  publish: [
    // Calls to the member's own vault: every OwnerSpace service callable by `app`. Sealed calls
    // travel on `forVault.sealed`; later frames and cancellations go underneath the call subject.
    "OwnerSpace.{owner_guid}.forVault.>",
    // OwnerProfileService (callers `connection`, `app`): the app fetches its connections' signed
    // profiles, so any member's `ownerProfile`. The vault refuses callers that are not connections
    // and answers only under the caller's own forApp.rpc, which only the caller can read.
    "MessageSpace.*.ownerProfile.>",
  ],
  subscribe: [
    // Replies (`forApp.rpc.…`) and the events the vault pushes (`forApp.backups`, `.calls`, …).
    "OwnerSpace.{owner_guid}.forApp.>",
    // The vault's handler catalogue (EventTypeCatalog; subscribers `app`, `backend`).
    "OwnerSpace.{owner_guid}.eventTypes",
    // Operator-signed announcements to everyone (subscribers `app`, `vault`).
    "Broadcast.security.alert",
    "Broadcast.system.announcement",
  ],
};

/** Per-connection limits of member users (written into the member signing key's template). */
export interface MemberUserLimits {
  /** Default {@link DEFAULT_MEMBER_MAX_SUBSCRIPTIONS}. */
  readonly subscriptions: number;
  /** Default {@link DEFAULT_MEMBER_MAX_PAYLOAD_BYTES}. */
  readonly payloadBytes: number;
  /** Default {@link DEFAULT_MEMBER_MAX_DATA_BYTES}. */
  readonly dataBytes: number;
  /** Default {@link DEFAULT_MEMBER_CONNECTION_TYPES}. */
  readonly connectionTypes: readonly ConnectionType[];
}

/** The defaults of {@link MemberUserLimits}. */
export const DEFAULT_MEMBER_USER_LIMITS: MemberUserLimits = {
  subscriptions: DEFAULT_MEMBER_MAX_SUBSCRIPTIONS,
  payloadBytes: DEFAULT_MEMBER_MAX_PAYLOAD_BYTES,
  dataBytes: DEFAULT_MEMBER_MAX_DATA_BYTES,
  connectionTypes: DEFAULT_MEMBER_CONNECTION_TYPES,
};

/** {@link MEMBER_PERMISSIONS} for one member, as its app is told (`NatsCredentials.permissions`). */
export function memberPermissions(ownerGuid: string): NatsPermissionSet {
  return fillPermissionSet(MEMBER_PERMISSIONS, {
    owner_guid: requireSubjectToken("owner_guid", ownerGuid),
  });
}

/**
 * The member signing key as the account JWT lists it: a scoped signing key whose template holds
 * the member permissions (with `{{name()}}`, the user JWT's name, standing for the GUID), the
 * limits and `bearer_token: false`. nats-server applies the template to every user this key signs
 * and refuses such users if they carry permissions of their own, so whoever holds the key (the
 * internet-facing credential function) can mint only member-shaped users: never one that reaches
 * Control, Backend or another space's wildcard.
 */
export function memberSigningKeyScope(
  signingKeyPublicKey: string,
  limits: Partial<MemberUserLimits> = {},
): SigningKey {
  const resolved = { ...DEFAULT_MEMBER_USER_LIMITS, ...limits };
  checkLimit("limits.subscriptions", resolved.subscriptions);
  checkLimit("limits.payloadBytes", resolved.payloadBytes);
  checkLimit("limits.dataBytes", resolved.dataBytes);
  return {
    kind: "user_scope",
    key: requirePublicNkey("memberSigningKey", signingKeyPublicKey, "A"),
    role: MEMBER_SIGNING_KEY_ROLE,
    template: {
      ...toJwtPermissions(fillPermissionSet(MEMBER_PERMISSIONS, { owner_guid: "{{name()}}" })),
      subs: resolved.subscriptions,
      payload: resolved.payloadBytes,
      data: resolved.dataBytes,
      bearer_token: false,
      allowed_connection_types: [...resolved.connectionTypes],
    },
  };
}

/** Options of {@link createMemberCredentialIssuer}. */
export interface MemberCredentialIssuerOptions {
  /** Public key (`A…`) of the VETTID account the members belong to. */
  readonly accountPublicKey: string;
  /** The account's member signing key (scoped, {@link memberSigningKeyScope}), with its seed. */
  readonly signingKey: KeyPair;
  /** NATS URLs handed to the app, in order (`tls://os.vettid.dev:443`). At least one. */
  readonly serverUrls: readonly string[];
  /** JWT lifetime. Default {@link DEFAULT_MEMBER_JWT_TTL_MS}, within the MIN/MAX bounds. */
  readonly ttlMs?: number;
  /** Per-member issuance limit. Default {@link createIssuanceRateLimiter} with its defaults. */
  readonly rateLimiter?: IssuanceRateLimiter;
  /** Clock in ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/** A member's credentials and the id to log and audit them by. */
export interface IssuedMemberCredentials {
  /** Ready for `NatsBootstrapResponse` / `RefreshNatsCredentialsResponse`. */
  readonly credentials: NatsCredentials;
  /**
   * The JWT's `jti` (@nats-io/jwt sets it to the SHA-512 of the claims, so it names exactly this
   * token). Store it with the nkey: NATS revokes by user public key and issue time
   * ({@link revokeUsers}), and the jti says which issued token a revocation ended.
   */
  readonly jti: string;
}

/** Issues member user JWTs; see {@link createMemberCredentialIssuer}. */
export interface MemberCredentialIssuer {
  /**
   * Signs a user JWT for the public nkey the member's device generated (the seed stays on the
   * device). Throws `invalid_argument` for a malformed GUID or nkey (before counting against the
   * rate limit) and `resource_exhausted` past the member's issuance limit.
   */
  issue(ownerGuid: string, userNkeyPublic: string): Promise<IssuedMemberCredentials>;
}

/**
 * Creates the issuer the enrollment (`NatsBootstrap`) and refresh (`RefreshNatsCredentials`)
 * handlers use. The caller has already authenticated the device (device proof) and looked up the
 * member's GUID; this checks the inputs, applies the rate limit and signs.
 *
 * The JWT: `name` = the GUID (the member signing key's template turns it into the permissions of
 * {@link MEMBER_PERMISSIONS}), `sub` = the device's user nkey, `issuer_account` = the account,
 * `exp` = now + TTL, no permissions or limits of its own (a scoped user), not a bearer token.
 */
export function createMemberCredentialIssuer(
  options: MemberCredentialIssuerOptions,
): MemberCredentialIssuer {
  const accountPublicKey = requirePublicNkey("accountPublicKey", options.accountPublicKey, "A");
  const signingKey = requireSigningKeyPair("signingKey", options.signingKey, "A");
  if (signingKey.getPublicKey() === accountPublicKey) {
    throw new TypeError(
      "signingKey must be the account's member signing key, not its identity key (only a scoped key confines what it signs)",
    );
  }
  const serverUrls = checkServerUrls(options.serverUrls);
  const ttlMs = options.ttlMs ?? DEFAULT_MEMBER_JWT_TTL_MS;
  if (!Number.isInteger(ttlMs) || ttlMs < MIN_MEMBER_JWT_TTL_MS || ttlMs > MAX_MEMBER_JWT_TTL_MS) {
    throw new RangeError(
      `ttlMs must be a whole number of ms from ${MIN_MEMBER_JWT_TTL_MS} (a minute) to ${MAX_MEMBER_JWT_TTL_MS} (a week); got ${ttlMs}`,
    );
  }
  const rateLimiter = options.rateLimiter ?? createIssuanceRateLimiter();
  const now = options.now ?? Date.now;

  return {
    async issue(ownerGuid, userNkeyPublic) {
      const guid = requireSubjectToken("owner_guid", ownerGuid);
      const userKey = requirePublicNkey("user_nkey_public", userNkeyPublic, "U");
      await rateLimiter.consume(guid);
      const issuedAtMs = now();
      const exp = toUnixSeconds(issuedAtMs + ttlMs);
      const jwt = await encodeUser(
        guid,
        userKey,
        accountPublicKey,
        {},
        { signer: signingKey, scopedUser: true, exp },
      );
      const credentials = create(NatsCredentialsSchema, {
        userJwt: jwt,
        userNkeyPublic: userKey,
        serverUrls: [...serverUrls],
        issuedAtMs: BigInt(issuedAtMs),
        expiresAtMs: BigInt(exp * 1000),
        permissions: toNatsPermissionsMessage(memberPermissions(guid)),
        ownerSpacePrefix: `OwnerSpace.${guid}`,
        messageSpacePrefix: `MessageSpace.${guid}`,
        rpcReplyPrefix: `OwnerSpace.${guid}.forApp.rpc`,
      });
      return { credentials, jti: decode(jwt).jti };
    },
  };
}

const SERVER_URL_SCHEMES = new Set(["nats:", "tls:", "ws:", "wss:"]);

function checkServerUrls(urls: readonly string[]): readonly string[] {
  if (urls.length === 0) throw new TypeError("serverUrls must list at least one NATS URL");
  for (const url of urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new TypeError(`serverUrls: ${JSON.stringify(url)} is not a URL`);
    }
    if (!SERVER_URL_SCHEMES.has(parsed.protocol)) {
      throw new TypeError(
        `serverUrls: ${JSON.stringify(url)} must use nats://, tls://, ws:// or wss://`,
      );
    }
  }
  return urls;
}

function checkLimit(name: string, value: number): void {
  if (!Number.isInteger(value) || value < -1 || value === 0) {
    throw new RangeError(
      `${name} must be a positive whole number or -1 (no limit); got ${value} (0 would forbid everything)`,
    );
  }
}
