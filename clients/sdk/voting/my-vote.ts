import { sha256 } from "@noble/hashes/sha2.js";
import type {
  PublishedVote,
  PublishedVoteList,
} from "../../../gen/vettid/voting/v1/vote_list_pb.js";
import type { GetMerkleProofResponse } from "../../../gen/vettid/voting/v1/vote_list_service_pb.js";
import type { VoteReceipt } from "../../../gen/vettid/voting/v1/vote_pb.js";
import { compareBytes, equalBytes } from "./bytes.js";
import { leafHash, merkleLevels } from "./merkle.js";
import { buildMerkleInclusionProof, merkleInclusionProofProblem } from "./merkle-proof.js";
import type { TrustedKeys } from "./trusted-keys.js";
import type { Sha256 } from "./vote.js";
import { verifySignedVoteListHead } from "./vote-list-head.js";

/** The entry of a published list with this voting key, and its index (the Merkle leaf index). */
export function findVoteByVotingKey(
  entries: readonly PublishedVote[],
  votingPublicKey: Uint8Array,
): { readonly index: number; readonly entry: PublishedVote } | undefined {
  const index = entries.findIndex((entry) => equalBytes(entry.votingPublicKey, votingPublicKey));
  return index < 0 ? undefined : { index, entry: entries[index] as PublishedVote };
}

/** The entry with this vote_hash, by binary search (entries are sorted by vote_hash). */
export function findVoteByHash(
  entries: readonly PublishedVote[],
  voteHashValue: Uint8Array,
): { readonly index: number; readonly entry: PublishedVote } | undefined {
  let low = 0;
  let high = entries.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const entry = entries[middle] as PublishedVote;
    const order = compareBytes(entry.voteHash, voteHashValue);
    if (order === 0) return { index: middle, entry };
    if (order < 0) low = middle + 1;
    else high = middle - 1;
  }
  return undefined;
}

/** The outcome of checking one's own vote. */
export type MyVoteCheck =
  | { readonly ok: true; readonly leafIndex: number; readonly treeSize: bigint }
  | { readonly ok: false; readonly problem: string };

/**
 * The member's check with a whole published list: finds the vote by the voting key of the
 * receipt, checks it is the very vote of the receipt (same signed bytes), then checks its
 * inclusion proof against the org-signed head's Merkle root. Never throws.
 */
export function checkMyVoteInList(
  list: PublishedVoteList,
  receipt: VoteReceipt,
  votingPublicKey: Uint8Array,
  orgKeys: TrustedKeys,
  hash: Sha256 = sha256,
): MyVoteCheck {
  const head = verifySignedVoteListHead(list.signedHead, orgKeys);
  if (!head.ok) return { ok: false, problem: head.problem };
  const found = findVoteByVotingKey(list.entries, votingPublicKey);
  if (found === undefined) return { ok: false, problem: "no published vote has this voting key" };
  const sameVote = sameSignedVote(found.entry, receipt);
  if (sameVote !== undefined) return { ok: false, problem: sameVote };
  const levels = merkleLevels(
    list.entries.map((entry) => leafHash(entry.voteHash, hash)),
    hash,
  );
  const proof = buildMerkleInclusionProof(levels, found.index, found.entry.voteHash, hash);
  const problem = merkleInclusionProofProblem(
    proof,
    head.head.merkleRoot,
    head.head.treeSize,
    hash,
  );
  if (problem !== undefined) return { ok: false, problem };
  return { ok: true, leafIndex: found.index, treeSize: head.head.treeSize };
}

/**
 * The member's check with VoteListService.GetMerkleProof's answer: the signed head verifies; the
 * entry is the receipt's vote; the proof is for the receipt's vote_hash and reaches the signed
 * Merkle root with the signed tree size. Never throws.
 */
export function checkMyVoteProof(
  response: GetMerkleProofResponse,
  receipt: VoteReceipt,
  orgKeys: TrustedKeys,
  hash: Sha256 = sha256,
): MyVoteCheck {
  const head = verifySignedVoteListHead(response.signedHead, orgKeys);
  if (!head.ok) return { ok: false, problem: head.problem };
  if (response.entry === undefined || response.proof === undefined) {
    return { ok: false, problem: "the answer has no entry or no proof" };
  }
  const sameVote = sameSignedVote(response.entry, receipt);
  if (sameVote !== undefined) return { ok: false, problem: sameVote };
  if (!equalBytes(response.proof.voteHash, receipt.voteHash)) {
    return { ok: false, problem: "the proof is for another vote" };
  }
  const problem = merkleInclusionProofProblem(
    response.proof,
    head.head.merkleRoot,
    head.head.treeSize,
    hash,
  );
  if (problem !== undefined) return { ok: false, problem };
  return { ok: true, leafIndex: Number(response.proof.leafIndex), treeSize: head.head.treeSize };
}

function sameSignedVote(entry: PublishedVote, receipt: VoteReceipt): string | undefined {
  const mine = receipt.signedVote;
  const theirs = entry.signedVote;
  if (mine === undefined || theirs === undefined)
    return "the receipt or the entry has no signed vote";
  if (!equalBytes(entry.voteHash, receipt.voteHash)) {
    return "the published vote for this key is not the receipt's (a later revision, or altered)";
  }
  if (
    !equalBytes(theirs.payload, mine.payload) ||
    !equalBytes(theirs.votingSignature, mine.votingSignature) ||
    !equalBytes(theirs.enclaveCountersignature, mine.enclaveCountersignature) ||
    theirs.enclaveKeyId !== mine.enclaveKeyId
  ) {
    return "the published signed vote differs from the receipt's";
  }
  return undefined;
}
