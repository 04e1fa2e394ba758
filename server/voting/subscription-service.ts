import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { MAX_SUBSCRIPTION_VALIDITY_MS, UUID_PATTERN } from "../../clients/sdk/voting/index.js";
import type { SubscriptionStatementService } from "../../gen/vettid/voting/v1/subscription_pb.js";
import type { OrgSigner } from "../signing/index.js";
import type { MembersTable } from "../storage/index.js";
import { signSubscriptionStatement } from "./backend-signing.js";
import { noMetrics, type VotingMetrics } from "./voting-metrics.js";

/** Whether, and until when, a member's subscription is paid up. */
export type SubscriptionState =
  | { readonly kind: "active"; readonly paidUntilMs: number }
  | { readonly kind: "inactive" }
  | { readonly kind: "unknown_member" };

/** Where the backend learns about subscriptions (billing). */
export interface SubscriptionSource {
  state(ownerGuid: string, nowMs: number): Promise<SubscriptionState>;
}

/**
 * A source that counts every active member (members table `status = active`) as subscribed, paid
 * up for the statement's whole validity: the backend keeps no billing data yet, so membership is
 * the subscription until a billing source replaces this one.
 */
export function createMembersSubscriptionSource(
  members: Pick<MembersTable, "get">,
): SubscriptionSource {
  return {
    async state(ownerGuid, nowMs) {
      const member = await members.get(ownerGuid);
      if (member === undefined) return { kind: "unknown_member" };
      return member.status === "active"
        ? { kind: "active", paidUntilMs: nowMs + MAX_SUBSCRIPTION_VALIDITY_MS }
        : { kind: "inactive" };
    },
  };
}

/** What SubscriptionStatementService needs. */
export interface SubscriptionServiceDeps {
  /** The subscription key (a KMS key apart from the org proposal key). */
  readonly signer: OrgSigner;
  readonly subscriptions: SubscriptionSource;
  /** Default `Date.now`. */
  readonly now?: () => number;
  readonly metrics?: VotingMetrics;
}

/**
 * SubscriptionStatementService (`Backend.subscriptions`, NATS): a signed statement that the member
 * is subscribed, valid until the end of the paid-up period but at most 72 hours from now. The
 * vault fetches it on its own schedule, never when voting, so this service (the only voting
 * service that sees member ids) learns nothing about votes; it logs nothing per member.
 */
export function createSubscriptionStatementService(
  deps: SubscriptionServiceDeps,
): ServiceImpl<typeof SubscriptionStatementService> {
  const now = deps.now ?? Date.now;
  const metrics = deps.metrics ?? noMetrics;
  return {
    async getSubscriptionStatement(request) {
      if (!UUID_PATTERN.test(request.ownerGuid)) {
        throw new ConnectError("owner_guid is not a lowercase UUID", Code.InvalidArgument);
      }
      const nowMs = now();
      const state = await deps.subscriptions.state(request.ownerGuid, nowMs);
      if (state.kind === "unknown_member") throw new ConnectError("no such member", Code.NotFound);
      if (state.kind === "inactive" || state.paidUntilMs <= nowMs) {
        throw new ConnectError("the member has no active subscription", Code.FailedPrecondition);
      }
      const statement = await signSubscriptionStatement(deps.signer, {
        $typeName: "vettid.voting.v1.SubscriptionStatementPayload",
        ownerGuid: request.ownerGuid,
        issuedAtMs: BigInt(nowMs),
        validUntilMs: BigInt(Math.min(state.paidUntilMs, nowMs + MAX_SUBSCRIPTION_VALIDITY_MS)),
      });
      metrics.count("subscription_statements_issued", 1);
      return { statement };
    },
  };
}
