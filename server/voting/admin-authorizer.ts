import { createHash, timingSafeEqual } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Checks that a request comes from an admin (ProposalService's admin RPCs): resolves, or throws
 * `unauthenticated` (no or malformed credentials) / `permission_denied` (not an admin).
 */
export type AdminAuthorizer = (requestHeader: Headers) => Promise<void>;

/**
 * An authorizer accepting `Authorization: Bearer <token>` for any of `tokens`, compared by SHA-256
 * in constant time: the local stack's and the tests' stand-in for the admin portal sign-in.
 */
export function createStaticTokenAdminAuthorizer(tokens: readonly string[]): AdminAuthorizer {
  if (tokens.length === 0 || tokens.some((token) => token.length < 16)) {
    throw new TypeError("admin tokens must be given, each at least 16 characters");
  }
  const digests = tokens.map((token) => createHash("sha256").update(token).digest());
  return async (header) => {
    const value = header.get("authorization");
    const match = value === null ? null : /^Bearer ([\x21-\x7e]+)$/.exec(value);
    if (match === null) {
      throw new ConnectError("an admin bearer token is required", Code.Unauthenticated);
    }
    const digest = createHash("sha256")
      .update(match[1] as string)
      .digest();
    if (!digests.some((known) => timingSafeEqual(known, digest))) {
      throw new ConnectError("the bearer token is not an admin's", Code.PermissionDenied);
    }
  };
}
