import { decode } from "@nats-io/jwt";
import type { KeyPair } from "@nats-io/nkeys";
import { RevocationReason } from "../../gen/vettid/control/v1/command_pb.js";
import { describeError, type Logger, silentLogger } from "../logging/index.js";
import { DEFAULT_REVOCATION_RETENTION_MS, revokeUsers } from "../nats-auth/index.js";
import type { MembersTable } from "../storage/members-table.js";
import type { NatsAccountsTable } from "../storage/nats-accounts-table.js";
import type { NatsTokensTable } from "../storage/nats-tokens-table.js";
import type { RevocationsTable } from "../storage/revocations-table.js";

/**
 * How often a revocation re-reads the account JWT and tries again when another revocation stored
 * a newer one in between (the conditional write failed). Each retry means another revocation got
 * through, so this is reached only under a storm of them.
 */
export const DEFAULT_REVOCATION_WRITE_ATTEMPTS = 5;

/** Which of a member's tokens to revoke (control.proto `RevokeMemberTokens.scope`). */
export type RevocationScope =
  | { readonly kind: "all"; readonly issuedAtOrBeforeMs: number }
  | { readonly kind: "tokens"; readonly jwtIds: readonly string[] };

/** A request to revoke a member's NATS tokens. */
export interface RevokeMemberTokensRequest {
  readonly ownerGuid: string;
  readonly scope: RevocationScope;
  readonly reason: RevocationReason;
  /** The control command asking for it, recorded with each revocation. */
  readonly commandId?: string;
}

/** What a revocation did. */
export interface RevokeMemberTokensResult {
  /**
   * Whether the account JWT was re-signed, stored and pushed (only where the operator signing key
   * is held); otherwise the keys are recorded (refreshes refuse them) and the JWT is left to the
   * operators' offline tooling.
   */
  readonly accountUpdated: boolean;
  /** The user nkeys added to the account's revocation list. */
  readonly revokedKeys: readonly string[];
  /** Listed token ids the backend has no record of (expired, or never issued). */
  readonly unknownJwtIds: readonly string[];
  /** `device_revoked` (DEVICE_LOST), `suspended` (ACCOUNT_CLOSED, POLICY) or `none`. */
  readonly memberAction: "none" | "device_revoked" | "suspended";
}

/** Revokes members' NATS tokens in the account JWT and makes the servers apply it. */
export interface MemberTokenRevoker {
  revoke(request: RevokeMemberTokensRequest): Promise<RevokeMemberTokensResult>;
}

/** What re-signing the account JWT takes; held only where the operator signing key may live. */
export interface AccountJwtSigning {
  readonly accounts: NatsAccountsTable;
  /** The VETTID account whose JWT carries the revocations. */
  readonly accountPublicKey: string;
  /** The operator signing key that signs the account JWT. */
  readonly operatorSigningKey: KeyPair;
  /**
   * Hands the new account JWT to the running servers (`pushAccountJwt` over a system-account
   * resolver-update connection); live connections of revoked keys are closed when it lands.
   */
  readonly pushAccountJwt: (accountJwt: string) => Promise<void>;
}

/** Options of {@link createMemberTokenRevoker}. */
export interface MemberTokenRevokerOptions {
  readonly tokens: NatsTokensTable;
  readonly revocations: RevocationsTable;
  readonly members: MembersTable;
  /**
   * Re-signs, stores and pushes the account JWT. Without it (where the operator signing key is
   * kept offline) the revocation is recorded and applied to refreshes and the member only.
   */
  readonly signing?: AccountJwtSigning;
  /** Default {@link DEFAULT_REVOCATION_WRITE_ATTEMPTS}. */
  readonly writeAttempts?: number;
  /** Clock in ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  readonly logger?: Logger;
}

/**
 * Creates the revoker the control worker uses for `RevokeMemberTokens`. NATS revokes by user key
 * and time, so a revocation adds each affected device nkey to the account JWT's revocation list
 * at the scope's time (every JWT for that key issued at or before it stops working), stores the
 * re-signed JWT with a conditional write on the previous one's id (the stored JWT is what servers
 * start from), records each key in the revocations table (refreshes refuse it from then on),
 * applies the reason to the member, then pushes the JWT to the servers.
 */
export function createMemberTokenRevoker(options: MemberTokenRevokerOptions): MemberTokenRevoker {
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const attempts = options.writeAttempts ?? DEFAULT_REVOCATION_WRITE_ATTEMPTS;

  async function storeRevocations(
    signing: AccountJwtSigning,
    targets: ReadonlyMap<string, number>,
  ): Promise<string> {
    for (let attempt = 0; attempt < attempts; attempt++) {
      const stored = await signing.accounts.get(signing.accountPublicKey);
      if (stored === undefined) {
        throw new Error(
          `no stored JWT for account ${signing.accountPublicKey}: the account must be stored before anything can be revoked`,
        );
      }
      let accountJwt = stored.jwt;
      for (const [key, at] of targets) {
        ({ accountJwt } = await revokeUsers({
          accountJwt,
          operatorSigningKey: signing.operatorSigningKey,
          userPublicKeys: [key],
          at,
          now,
        }));
      }
      const jwtId = decode(accountJwt).jti;
      if (
        await signing.accounts.replace(
          signing.accountPublicKey,
          { jwt: accountJwt, jwtId },
          stored.jwtId,
          now(),
        )
      ) {
        return accountJwt;
      }
    }
    throw new Error(
      `the account JWT kept changing under the revocation (${attempts} attempts); try again`,
    );
  }

  return {
    async revoke(request) {
      const tokens = await options.tokens.list(request.ownerGuid);
      const targets = new Map<string, number>();
      const unknownJwtIds: string[] = [];
      if (request.scope.kind === "all") {
        const at = request.scope.issuedAtOrBeforeMs;
        for (const token of tokens) {
          if (token.issuedAtMs <= at) targets.set(token.userNkeyPublic, at);
        }
      } else {
        for (const jwtId of request.scope.jwtIds) {
          const token = tokens.find((t) => t.jwtId === jwtId);
          if (token === undefined) {
            unknownJwtIds.push(jwtId);
            continue;
          }
          targets.set(
            token.userNkeyPublic,
            Math.max(targets.get(token.userNkeyPublic) ?? 0, token.issuedAtMs),
          );
        }
      }

      const signing = options.signing;
      let accountJwt: string | undefined;
      if (targets.size > 0 && signing !== undefined) {
        accountJwt = await storeRevocations(signing, targets);
      }
      const reason = RevocationReason[request.reason] ?? String(request.reason);
      for (const [key, at] of targets) {
        await options.revocations.put({
          userPublicKey: key,
          ownerGuid: request.ownerGuid,
          revokedAtMs: at,
          reason,
          ...(request.commandId === undefined ? {} : { commandId: request.commandId }),
          expiresAtMs: at + DEFAULT_REVOCATION_RETENTION_MS,
        });
      }

      let memberAction: RevokeMemberTokensResult["memberAction"] = "none";
      if (request.scope.kind === "all") {
        if (request.reason === RevocationReason.DEVICE_LOST) {
          await options.members.revokeDevice(request.ownerGuid, now());
          memberAction = "device_revoked";
        } else if (
          request.reason === RevocationReason.ACCOUNT_CLOSED ||
          request.reason === RevocationReason.POLICY
        ) {
          await options.members.suspend(request.ownerGuid, reason, now());
          memberAction = "suspended";
        }
      }

      if (accountJwt !== undefined && signing !== undefined) {
        try {
          await signing.pushAccountJwt(accountJwt);
        } catch (error) {
          // Stored already: servers started or reloaded from now on apply it anyway.
          logger.error("revocation.push_failed", {
            ownerGuid: request.ownerGuid,
            error: describeError(error),
          });
          throw error;
        }
      }
      logger.info("revocation.applied", {
        ownerGuid: request.ownerGuid,
        keys: targets.size,
        reason,
        memberAction,
        accountUpdated: accountJwt !== undefined,
        ...(request.commandId === undefined ? {} : { commandId: request.commandId }),
      });
      return {
        accountUpdated: accountJwt !== undefined,
        revokedKeys: [...targets.keys()],
        unknownJwtIds,
        memberAction,
      };
    },
  };
}
