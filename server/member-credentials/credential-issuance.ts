import { Code, ConnectError } from "@connectrpc/connect";
import type { NatsCredentials } from "../../gen/vettid/enrollment/v1/nats_credentials_pb.js";
import type { MemberCredentialIssuer } from "../nats-auth/index.js";
import { requirePublicNkey } from "../nats-auth/validation.js";
import type { NatsTokensTable } from "../storage/nats-tokens-table.js";
import type { RevocationsTable } from "../storage/revocations-table.js";

/** Which call a token was issued by (kept with the token for audits). */
export type IssuedBy = "bootstrap" | "refresh";

/**
 * Issues member NATS credentials for the enrollment and refresh services: refuses a revoked
 * nkey, applies the issuance rate limit and signs (the issuer), and records the token so it can be
 * listed and revoked.
 */
export interface CredentialIssuance {
  /**
   * Checks a public user nkey's form (`invalid_argument` naming `user_nkey_public`) before any
   * read or write.
   */
  checkNkey(userNkeyPublic: string): string;
  /**
   * Issues a JWT for the member's device-made nkey. `permission_denied` when the nkey was revoked
   * (NATS revokes by key and time, so a JWT issued for it later would be honoured again),
   * `resource_exhausted` past the rate limit.
   */
  issue(ownerGuid: string, userNkeyPublic: string, issuedBy: IssuedBy): Promise<NatsCredentials>;
}

/** Options of {@link createCredentialIssuance}. */
export interface CredentialIssuanceOptions {
  readonly issuer: MemberCredentialIssuer;
  readonly tokens: NatsTokensTable;
  readonly revocations: RevocationsTable;
}

/** Creates the shared issuance step. */
export function createCredentialIssuance(options: CredentialIssuanceOptions): CredentialIssuance {
  return {
    checkNkey(userNkeyPublic) {
      return requirePublicNkey("user_nkey_public", userNkeyPublic, "U");
    },
    async issue(ownerGuid, userNkeyPublic, issuedBy) {
      const revoked = await options.revocations.get(userNkeyPublic);
      if (revoked !== undefined) {
        throw new ConnectError(
          "user_nkey_public was revoked: generate a new NATS nkey on the device and ask again",
          Code.PermissionDenied,
        );
      }
      const { credentials, jti } = await options.issuer.issue(ownerGuid, userNkeyPublic);
      await options.tokens.record({
        ownerGuid,
        jwtId: jti,
        userNkeyPublic,
        issuedAtMs: Number(credentials.issuedAtMs),
        expiresAtMs: Number(credentials.expiresAtMs),
        issuedBy,
      });
      return credentials;
    },
  };
}
