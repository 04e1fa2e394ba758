/**
 * The domain-separation labels of vettid.voting.v1 (`proto/vettid/voting/v1/signature.proto`).
 * Every signature covers `UTF-8 label || 0x00 || payload`, so a signature made for one kind of
 * object can never be accepted as another. These are the only voting labels.
 */

/** SignedProposal.org_signature (org key, KMS). */
export const PROPOSAL_CONTEXT = "vettid-proposal-v1";
/** SignedVoteListHead.org_signature (org key, KMS). */
export const VOTE_LIST_HEAD_CONTEXT = "vettid-vote-list-head-v1";
/** SubscriptionStatement.signature (subscription key, KMS). */
export const SUBSCRIPTION_CONTEXT = "vettid-subscription-v1";
/** SignedVote.voting_signature (the member's per-proposal voting key). */
export const VOTE_SIGNATURE_CONTEXT = "vettid-vote-sig-v1";
/**
 * SignedVote.enclave_countersignature (the enclave's attested key); also the exact `user_data`
 * of the attestation document that certifies that key (EnclaveVoteKeyCertificate).
 */
export const VOTE_COUNTERSIGNATURE_CONTEXT = "vettid-vote-countersig-v1";
/** HKDF-SHA-256 `info` of the per-proposal voting key (vote.proto). Not a signature context. */
export const VOTING_KEY_INFO = "vettid-vote-v1";

/** A signature context of signature.proto. */
export type SignatureContext =
  | typeof PROPOSAL_CONTEXT
  | typeof VOTE_LIST_HEAD_CONTEXT
  | typeof SUBSCRIPTION_CONTEXT
  | typeof VOTE_SIGNATURE_CONTEXT
  | typeof VOTE_COUNTERSIGNATURE_CONTEXT;

const encoder = new TextEncoder();
const prefixes = new Map<string, Uint8Array>();

/** The bytes a signature covers: `UTF-8 context || 0x00 || payload` (signature.proto). */
export function signedMessage(context: SignatureContext, payload: Uint8Array): Uint8Array {
  let prefix = prefixes.get(context);
  if (prefix === undefined) {
    const label = encoder.encode(context);
    prefix = new Uint8Array(label.length + 1);
    prefix.set(label);
    prefixes.set(context, prefix);
  }
  const message = new Uint8Array(prefix.length + payload.length);
  message.set(prefix);
  message.set(payload, prefix.length);
  return message;
}
