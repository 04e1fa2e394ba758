import { type ConnectionType, decode, encodeUser } from "@nats-io/jwt";
import type { KeyPair } from "@nats-io/nkeys";
import { fillPermissionSet, type NatsPermissionSet, toJwtPermissions } from "./permissions.js";
import {
  requirePublicNkey,
  requireSigningKeyPair,
  requireSubjectToken,
  toUnixSeconds,
} from "./validation.js";

/** The NATS users of the system other than members. */
export type ServiceRole = "parent" | "backend" | "operator";

/**
 * Lifetime of parent and backend user JWTs: a week. These users see every member's routing
 * metadata, so a leaked credential should not outlive a deployment cycle; deployment issues fresh
 * ones (rotation at least weekly), and revocation cuts a known leak at once.
 */
export const DEFAULT_SERVICE_JWT_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** Lifetime of an operator's user JWT: 12 hours, one working session of a person at a CLI. */
export const DEFAULT_OPERATOR_JWT_TTL_MS = 12 * 60 * 60 * 1000;

/**
 * Longest lifetime any service user may be given: 30 days. Revocations are kept for this long
 * ({@link DEFAULT_REVOCATION_RETENTION_MS}), so it bounds the account JWT's revocation list.
 */
export const MAX_SERVICE_JWT_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * How services connect: plain NATS (TCP/TLS). Leaf-node, WebSocket and MQTT connections with a
 * service credential are refused, so a stolen one cannot be used to bridge a foreign server in.
 */
export const DEFAULT_SERVICE_CONNECTION_TYPES: readonly ConnectionType[] = ["STANDARD"];

/**
 * What each role may do, derived from `docs/subjects.md`; `{enclave_id}` is the parent's own
 * enclave. `test/nats-auth/permissions-schema.test.ts` checks these against the schema both ways.
 *
 * The RPC client receives replies of routes without a reply prefix under `_INBOX`, so every
 * service user may use `_INBOX.>`; members never do (their replies come under their forApp).
 */
export const SERVICE_PERMISSIONS: Readonly<Record<ServiceRole, NatsPermissionSet>> = {
  /**
   * The parent on an enclave host. It carries the NATS traffic of the vaults (party `vault`) and the
   * supervisor inside its enclave, and its own (party `parent`).
   */
  parent: {
    publish: [
      // Vaults answer apps (forApp.rpc) and push events to them (forApp.backups, .calls, …).
      "OwnerSpace.*.forApp.>",
      // Vault events: the handler catalogue; health and lifecycle for the backend.
      "OwnerSpace.*.eventTypes",
      "OwnerSpace.*.forServices.>",
      // A vault as a connection of another member (party `connection`): messages, profile
      // fetches and call signalling to that member's vault.
      "MessageSpace.*.forOwner.>",
      "MessageSpace.*.ownerProfile.>",
      "MessageSpace.*.call.signal",
      // Vaults call backend services: subscription statements, vote intake.
      "Backend.subscriptions.>",
      "Backend.votes.>",
      // Parent and supervisor report on operator commands.
      "Control.result.*",
      // Replies to inbox callers (MessagesService, discovery).
      "_INBOX.>",
    ],
    subscribe: [
      // Vaults serve every OwnerSpace service (sealed subject, later frames, cancellations).
      "OwnerSpace.*.forVault.>",
      // The supervisor serves ProvisioningService (sealed subject, cancellations).
      "Enclave.sealed",
      "Enclave.sealed.>",
      // The supervisor serves EnclaveAttestationService (unsealed: attestation is public).
      "Enclave.attestation.>",
      // Vaults serve their connections: messages, profile, call signalling.
      "MessageSpace.*.forOwner.>",
      "MessageSpace.*.ownerProfile.>",
      "MessageSpace.*.call.signal",
      // Replies to a vault's own profile fetches (reply prefix OwnerSpace.{caller_guid}.forApp.rpc).
      "OwnerSpace.*.forApp.rpc.>",
      // Announcements vaults act on.
      "Broadcast.security.alert",
      "Broadcast.system.announcement",
      // Operator commands for every enclave, this enclave, and members' vaults.
      "Control.global.command",
      "Control.enclave.{enclave_id}.command",
      "Control.user.*.command",
      // Replies to its own calls; NATS service discovery (`nats micro ls`).
      "_INBOX.>",
      "$SRV.>",
    ],
  },
  /** Backend services (Lambdas' NATS workers). */
  backend: {
    publish: [
      // ProvisioningService (caller `backend`): enrollment relays the sealed CreateCredential
      // to the enclave. Sealed, so only the sealed subject and the call's cancellation (unary:
      // no later frames). Never a member's OwnerSpace: the backend cannot speak as a member.
      "Enclave.sealed",
      "Enclave.sealed.cancel.*",
      // EnclaveAttestationService: the attestation document enrollment start hands the app.
      "Enclave.attestation.>",
      // Diagnostics (EchoService callers `operator`, `backend`).
      "Diagnostics.>",
      // Announcements (publishers `operator`, `backend`).
      "Broadcast.security.alert",
      "Broadcast.system.announcement",
      // Replies to the callers of what it serves; discovery answers.
      "_INBOX.>",
    ],
    subscribe: [
      // The Backend space is the backend's: subscription statements, vote intake, and more.
      "Backend.>",
      // Diagnostics served by the backend (EchoService).
      "Diagnostics.>",
      // Vault events for the backend: handler catalogue, health, lifecycle.
      "OwnerSpace.*.eventTypes",
      "OwnerSpace.*.forServices.>",
      // The control audit trail (server/control-audit): the backend records every operator
      // command and every receiver's result, and applies accepted RevokeMemberTokens to the NATS
      // account's revocation list. The schema names only operators, parents and supervisors for
      // these events; the backend listens, never publishes, so it can neither issue nor answer a
      // command. `Control.*.command` is `Control.global.command` (three tokens).
      "Control.*.command",
      "Control.enclave.*.command",
      "Control.user.*.command",
      "Control.result.*",
      // Replies to its own calls; service discovery.
      "_INBOX.>",
      "$SRV.>",
    ],
  },
  /** An operator's CLI (commands are also Ed25519-signed with the control key; this is the fence). */
  operator: {
    publish: [
      "Control.global.command",
      "Control.enclave.*.command",
      "Control.user.*.command",
      "Broadcast.security.alert",
      "Broadcast.system.announcement",
      // EnclaveAttestationService (callers `backend`, `operator`): check a deployed build.
      "Enclave.attestation.>",
      // EchoService (callers `operator`, `backend`) and `nats micro ls/info/stats`.
      "Diagnostics.>",
      "$SRV.>",
    ],
    subscribe: [
      // Accepted/rejected/completed reports of its commands.
      "Control.result.*",
      // Replies to its calls.
      "_INBOX.>",
    ],
  },
};

/** The permissions of a role, with the parent's enclave id filled in. */
export function servicePermissions(
  role: ServiceRole,
  options: { readonly enclaveId?: string } = {},
): NatsPermissionSet {
  const set = SERVICE_PERMISSIONS[role];
  if (set === undefined) {
    throw new TypeError(
      `role must be one of ${Object.keys(SERVICE_PERMISSIONS).join(", ")}; got ${JSON.stringify(role)}`,
    );
  }
  if (role === "parent") {
    return fillPermissionSet(set, {
      enclave_id: requireSubjectToken("enclaveId", options.enclaveId),
    });
  }
  if (options.enclaveId !== undefined) {
    throw new TypeError(`enclaveId applies only to the parent role, not to ${role}`);
  }
  return set;
}

/** Options of {@link issueServiceUser}. */
export interface IssueServiceUserOptions {
  readonly role: ServiceRole;
  /** The service's public user nkey (`U…`); the service made the pair and keeps the seed. */
  readonly userPublicKey: string;
  /** The VETTID account's public key (`A…`). */
  readonly accountPublicKey: string;
  /** The account's service signing key, with its seed. */
  readonly signingKey: KeyPair;
  /** The parent's enclave id (one subject token); required for, and only for, `parent`. */
  readonly enclaveId?: string;
  /** Name in the JWT and server logs. Default `parent-{enclaveId}`, `backend` or `operator`. */
  readonly name?: string;
  /**
   * Lifetime. Default {@link DEFAULT_SERVICE_JWT_TTL_MS} ({@link DEFAULT_OPERATOR_JWT_TTL_MS} for
   * operators); at most {@link MAX_SERVICE_JWT_TTL_MS}.
   */
  readonly ttlMs?: number;
  /** Clock in ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/** A service user's JWT and what it allows. */
export interface IssuedServiceUser {
  readonly jwt: string;
  /** The JWT's `jti`, for logs and audit. */
  readonly jti: string;
  readonly expiresAtMs: number;
  readonly permissions: NatsPermissionSet;
}

/**
 * Issues a user JWT for a parent, a backend service or an operator, with the role's permissions
 * ({@link SERVICE_PERMISSIONS}), no bearer use, and an expiry.
 */
export async function issueServiceUser(
  options: IssueServiceUserOptions,
): Promise<IssuedServiceUser> {
  const permissions = servicePermissions(
    options.role,
    options.enclaveId === undefined ? {} : { enclaveId: options.enclaveId },
  );
  const userKey = requirePublicNkey("userPublicKey", options.userPublicKey, "U");
  const accountPublicKey = requirePublicNkey("accountPublicKey", options.accountPublicKey, "A");
  const signingKey = requireSigningKeyPair("signingKey", options.signingKey, "A");
  if (signingKey.getPublicKey() === accountPublicKey) {
    throw new TypeError(
      "signingKey must be the account's service signing key, not its identity key (which stays offline)",
    );
  }
  const ttlMs =
    options.ttlMs ??
    (options.role === "operator" ? DEFAULT_OPERATOR_JWT_TTL_MS : DEFAULT_SERVICE_JWT_TTL_MS);
  if (!Number.isInteger(ttlMs) || ttlMs < 1000 || ttlMs > MAX_SERVICE_JWT_TTL_MS) {
    throw new RangeError(
      `ttlMs must be a whole number of ms from 1000 to ${MAX_SERVICE_JWT_TTL_MS} (30 days); got ${ttlMs}`,
    );
  }
  const name =
    options.name ?? (options.role === "parent" ? `parent-${options.enclaveId}` : options.role);
  const exp = toUnixSeconds((options.now ?? Date.now)() + ttlMs);
  const jwt = await encodeUser(
    name,
    userKey,
    accountPublicKey,
    {
      ...toJwtPermissions(permissions),
      subs: -1,
      payload: -1,
      data: -1,
      bearer_token: false,
      allowed_connection_types: [...DEFAULT_SERVICE_CONNECTION_TYPES],
    },
    { signer: signingKey, exp },
  );
  return { jwt, jti: decode(jwt).jti, expiresAtMs: exp * 1000, permissions };
}
