import { MerkleTreeAlgorithm } from "../../../gen/vettid/voting/v1/merkle_pb.js";
import {
  type SignedVoteListHead,
  type VoteListHead,
  VoteListHeadSchema,
} from "../../../gen/vettid/voting/v1/vote_list_pb.js";
import { VOTE_LIST_HEAD_CONTEXT } from "./labels.js";
import { MERKLE_HASH_BYTES } from "./merkle.js";
import { UUID_PATTERN, VALID_CHOICES } from "./proposal.js";
import { decodeStrict } from "./strict-decode.js";
import {
  backendSignatureFailure,
  describeBackendSignatureFailure,
  type TrustedKeys,
} from "./trusted-keys.js";

/** The outcome of {@link verifySignedVoteListHead}. */
export type VoteListHeadVerification =
  | { readonly ok: true; readonly head: VoteListHead }
  | { readonly ok: false; readonly problem: string };

/**
 * Verifies a SignedVoteListHead (vote_list.proto): org signature with context
 * "vettid-vote-list-head-v1", then a strict decode and the head's own consistency (32-byte
 * hashes, the RFC 6962 algorithm, valid distinct choices, total = sum of counts = tree_size).
 * Never throws.
 */
export function verifySignedVoteListHead(
  signed: SignedVoteListHead | undefined,
  keys: TrustedKeys,
): VoteListHeadVerification {
  if (signed === undefined) return { ok: false, problem: "signed head is missing" };
  const failure = backendSignatureFailure(
    {
      payload: signed.payload,
      signature: signed.orgSignature,
      signingKeyId: signed.signingKeyId,
      algorithm: signed.algorithm,
    },
    VOTE_LIST_HEAD_CONTEXT,
    keys,
  );
  if (failure !== undefined) {
    return {
      ok: false,
      problem: describeBackendSignatureFailure(failure, "vote list head", signed.signingKeyId),
    };
  }
  const decoded = decodeStrict(VoteListHeadSchema, signed.payload, "vote list head");
  if (!decoded.ok) return decoded;
  const head = decoded.message;
  const problem = headProblem(head);
  return problem === undefined
    ? { ok: true, head }
    : { ok: false, problem: `vote list head: ${problem}` };
}

function headProblem(head: VoteListHead): string | undefined {
  if (!UUID_PATTERN.test(head.proposalId)) return "proposal_id is not a lowercase UUID";
  if (head.proposalHash.length !== MERKLE_HASH_BYTES) return "proposal_hash is not 32 bytes";
  if (head.merkleAlgorithm !== MerkleTreeAlgorithm.RFC6962_SHA256)
    return "merkle_algorithm is not RFC6962_SHA256";
  if (head.merkleRoot.length !== MERKLE_HASH_BYTES) return "merkle_root is not 32 bytes";
  const seen = new Set<number>();
  let sum = 0n;
  for (const count of head.counts) {
    if (!VALID_CHOICES.includes(count.choice) || seen.has(count.choice)) {
      return "counts name an invalid or repeated choice";
    }
    seen.add(count.choice);
    sum += count.count;
  }
  if (sum !== head.totalVotes) return "total_votes is not the sum of counts";
  if (head.treeSize !== head.totalVotes) return "tree_size is not total_votes";
  return undefined;
}
