import {
  type SubscriptionStatement,
  type SubscriptionStatementPayload,
  SubscriptionStatementPayloadSchema,
} from "../../../gen/vettid/voting/v1/subscription_pb.js";
import { SUBSCRIPTION_CONTEXT } from "./labels.js";
import { UUID_PATTERN } from "./proposal.js";
import { decodeStrict } from "./strict-decode.js";
import {
  backendSignatureFailure,
  describeBackendSignatureFailure,
  type TrustedKeys,
} from "./trusted-keys.js";

/**
 * How far a statement's issued_at_ms may lie after the checker's clock: five minutes
 * (subscription.proto), for an enclave clock slightly behind the backend's.
 */
export const SUBSCRIPTION_ISSUE_SKEW_MS = 5 * 60_000;

/**
 * Longest validity of a statement, from issue: 72 hours (subscription.proto), so a cancelled
 * subscription stops counting within 72 hours. A statement claiming longer is refused.
 */
export const MAX_SUBSCRIPTION_VALIDITY_MS = 72 * 3_600_000;

/** Why a subscription statement is refused. */
export type SubscriptionRefusal =
  | "malformed"
  | "bad_signature"
  | "wrong_member"
  | "not_yet_valid"
  | "expired";

/** The outcome of {@link verifySubscriptionStatement}. */
export type SubscriptionVerification =
  | { readonly ok: true; readonly payload: SubscriptionStatementPayload }
  | { readonly ok: false; readonly refusal: SubscriptionRefusal; readonly problem: string };

/**
 * Checks a SubscriptionStatement as the vault must (subscription.proto): the signature verifies
 * with a pinned subscription key (context "vettid-subscription-v1"), owner_guid is `ownerGuid`,
 * issued_at_ms ≤ now + 5 minutes, now < valid_until_ms, and valid_until_ms is at most 72 hours
 * after issued_at_ms. Never throws.
 */
export function verifySubscriptionStatement(
  statement: SubscriptionStatement | undefined,
  keys: TrustedKeys,
  expected: { readonly ownerGuid: string; readonly nowMs: number },
): SubscriptionVerification {
  if (statement === undefined) {
    return { ok: false, refusal: "malformed", problem: "no subscription statement" };
  }
  const failure = backendSignatureFailure(
    {
      payload: statement.payload,
      signature: statement.signature,
      signingKeyId: statement.signingKeyId,
      algorithm: statement.algorithm,
    },
    SUBSCRIPTION_CONTEXT,
    keys,
  );
  if (failure !== undefined) {
    return {
      ok: false,
      refusal: "bad_signature",
      problem: describeBackendSignatureFailure(
        failure,
        "subscription statement",
        statement.signingKeyId,
      ),
    };
  }
  const decoded = decodeStrict(
    SubscriptionStatementPayloadSchema,
    statement.payload,
    "subscription statement",
  );
  if (!decoded.ok) return { ok: false, refusal: "malformed", problem: decoded.problem };
  const payload = decoded.message;
  if (!UUID_PATTERN.test(payload.ownerGuid) || payload.issuedAtMs <= 0n) {
    return {
      ok: false,
      refusal: "malformed",
      problem: "subscription statement fields are malformed",
    };
  }
  if (payload.validUntilMs - payload.issuedAtMs > BigInt(MAX_SUBSCRIPTION_VALIDITY_MS)) {
    return {
      ok: false,
      refusal: "malformed",
      problem: "subscription statement is valid for more than 72 hours",
    };
  }
  if (payload.ownerGuid !== expected.ownerGuid) {
    return {
      ok: false,
      refusal: "wrong_member",
      problem: "subscription statement is about another member",
    };
  }
  const now = BigInt(expected.nowMs);
  if (payload.issuedAtMs > now + BigInt(SUBSCRIPTION_ISSUE_SKEW_MS)) {
    return {
      ok: false,
      refusal: "not_yet_valid",
      problem: "subscription statement is issued in the future",
    };
  }
  if (now >= payload.validUntilMs) {
    return { ok: false, refusal: "expired", problem: "subscription statement has expired" };
  }
  return { ok: true, payload };
}
