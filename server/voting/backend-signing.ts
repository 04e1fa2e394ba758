import { create, toBinary } from "@bufbuild/protobuf";
import {
  PROPOSAL_CONTEXT,
  SUBSCRIPTION_CONTEXT,
  VOTE_LIST_HEAD_CONTEXT,
} from "../../clients/sdk/voting/index.js";
import {
  type ProposalPayload,
  ProposalPayloadSchema,
  type SignedProposal,
  SignedProposalSchema,
} from "../../gen/vettid/voting/v1/proposal_pb.js";
import {
  type SubscriptionStatement,
  type SubscriptionStatementPayload,
  SubscriptionStatementPayloadSchema,
  SubscriptionStatementSchema,
} from "../../gen/vettid/voting/v1/subscription_pb.js";
import {
  type SignedVoteListHead,
  SignedVoteListHeadSchema,
  type VoteListHead,
  VoteListHeadSchema,
} from "../../gen/vettid/voting/v1/vote_list_pb.js";
import { type OrgSigner, signBackendObject } from "../signing/index.js";

/**
 * The backend's three signed objects. Payloads are serialised once, deterministically (protobuf-es
 * writes fields in field-number order and no unknown fields), and those exact bytes are signed and
 * stored: nothing is ever re-encoded before verification.
 */

/** Signs a ProposalPayload with the org key ("vettid-proposal-v1"). */
export async function signProposal(
  signer: OrgSigner,
  payload: ProposalPayload,
): Promise<SignedProposal> {
  const bytes = toBinary(ProposalPayloadSchema, create(ProposalPayloadSchema, payload));
  const signed = await signBackendObject(signer, PROPOSAL_CONTEXT, bytes);
  return create(SignedProposalSchema, {
    payload: bytes,
    orgSignature: signed.signature,
    signingKeyId: signed.signingKeyId,
    algorithm: signed.algorithm,
  });
}

/** Signs a VoteListHead with the org key ("vettid-vote-list-head-v1"). */
export async function signVoteListHead(
  signer: OrgSigner,
  head: VoteListHead,
): Promise<SignedVoteListHead> {
  const bytes = toBinary(VoteListHeadSchema, create(VoteListHeadSchema, head));
  const signed = await signBackendObject(signer, VOTE_LIST_HEAD_CONTEXT, bytes);
  return create(SignedVoteListHeadSchema, {
    payload: bytes,
    orgSignature: signed.signature,
    signingKeyId: signed.signingKeyId,
    algorithm: signed.algorithm,
  });
}

/** Signs a SubscriptionStatementPayload with the subscription key ("vettid-subscription-v1"). */
export async function signSubscriptionStatement(
  signer: OrgSigner,
  payload: SubscriptionStatementPayload,
): Promise<SubscriptionStatement> {
  const bytes = toBinary(
    SubscriptionStatementPayloadSchema,
    create(SubscriptionStatementPayloadSchema, payload),
  );
  const signed = await signBackendObject(signer, SUBSCRIPTION_CONTEXT, bytes);
  return create(SubscriptionStatementSchema, {
    payload: bytes,
    signature: signed.signature,
    signingKeyId: signed.signingKeyId,
    algorithm: signed.algorithm,
  });
}
