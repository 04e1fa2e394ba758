import { Code, ConnectError } from "@connectrpc/connect";
import { equalBytes } from "@noble/curves/utils.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";

/** The member an account sign-in speaks for. */
export interface AuthenticatedAccount {
  readonly ownerGuid: string;
}

/**
 * Checks the member's account sign-in (`Authorization: Bearer <token>`) for the calls a lost
 * device cannot authorise (RequestRecovery). Rejects with `unauthenticated`. Production verifies
 * the account provider's token (Cognito ID token: signature against the user pool's JWKS, issuer,
 * audience, expiry, the member's guid claim); not built yet.
 */
export interface AccountAuthenticator {
  authenticate(authorization: string | null): Promise<AuthenticatedAccount>;
}

/** Prefix of development account tokens. */
const DEV_TOKEN_PREFIX = "dev1";

/**
 * The development sign-in: tokens `dev1.<owner_guid>.<hex HMAC-SHA256(key, owner_guid)>` made by
 * {@link issueDevAccountToken} with the same key. For the local stack and the tests only: whoever
 * holds the key can sign in as anyone, so the Lambda configuration refuses it in production.
 */
export function createDevAccountAuthenticator(key: Uint8Array): AccountAuthenticator {
  if (key.byteLength < 32)
    throw new TypeError("the dev account token key must be at least 32 bytes");
  return {
    async authenticate(authorization) {
      const token = /^Bearer (\S+)$/.exec(authorization ?? "")?.[1];
      if (token === undefined) {
        throw new ConnectError(
          "this call needs the member's account sign-in: Authorization: Bearer <token>",
          Code.Unauthenticated,
        );
      }
      const [prefix, ownerGuid, mac] = token.split(".");
      if (
        prefix !== DEV_TOKEN_PREFIX ||
        ownerGuid === undefined ||
        mac === undefined ||
        !/^[0-9a-f]{64}$/.test(mac) ||
        !equalBytes(hexToBytes(mac), devMac(key, ownerGuid))
      ) {
        throw new ConnectError("the account token is not valid", Code.Unauthenticated);
      }
      return { ownerGuid };
    },
  };
}

/** A development account token for `ownerGuid` (see {@link createDevAccountAuthenticator}). */
export function issueDevAccountToken(key: Uint8Array, ownerGuid: string): string {
  return `${DEV_TOKEN_PREFIX}.${ownerGuid}.${bytesToHex(devMac(key, ownerGuid))}`;
}

function devMac(key: Uint8Array, ownerGuid: string): Uint8Array {
  return hmac(sha256, key, new TextEncoder().encode(ownerGuid));
}
