import { create } from "@bufbuild/protobuf";
import {
  compareBytes,
  createMerkleRootBuilder,
  leafHash,
  quorumMet,
  type Sha256,
} from "../../clients/sdk/voting/index.js";
import { nodeSha256 } from "../../clients/sdk/voting/node.js";
import { MerkleTreeAlgorithm } from "../../gen/vettid/voting/v1/merkle_pb.js";
import type {
  Choice,
  ProposalPayload,
  SignedProposal,
} from "../../gen/vettid/voting/v1/proposal_pb.js";
import {
  type PublishedVote,
  type PublishedVoteList,
  PublishedVoteListSchema,
  PublishedVoteSchema,
  type SignedVoteListHead,
  VoteListHeadSchema,
} from "../../gen/vettid/voting/v1/vote_list_pb.js";
import type { EnclaveVoteKeyCertificate, SignedVote } from "../../gen/vettid/voting/v1/vote_pb.js";
import type { OrgSigner } from "../signing/index.js";
import { signVoteListHead } from "./backend-signing.js";

/** One accepted vote, as the publisher collected it. */
export interface AcceptedVote {
  readonly voteHash: Uint8Array;
  readonly choice: Choice;
  readonly votingPublicKey: Uint8Array;
  readonly signedVote: SignedVote;
}

/** What a vote list is built from. */
export interface VoteListInput {
  readonly signedProposal: SignedProposal;
  readonly proposal: ProposalPayload;
  readonly proposalHash: Uint8Array;
  /** The accepted votes (latest revision per voting key), in any order. */
  readonly votes: readonly AcceptedVote[];
  /** Certificates of the enclave keys that countersigned them. */
  readonly certificates: readonly EnclaveVoteKeyCertificate[];
  readonly eligibleMemberCount: number;
  /** When voting actually ended. */
  readonly closedAtMs: number;
  readonly publishedAtMs: number;
  readonly signer: OrgSigner;
  /** Default node:crypto's SHA-256. */
  readonly hash?: Sha256;
}

/**
 * Builds the published list (vote_list.proto): entries ordered by vote_hash (not by arrival, nor
 * by voting key), counts in the proposal's choice order, the RFC 9162 Merkle root over the vote
 * hashes, and the VoteListHead (proposal id and hash, size, root, counts, quorum, times) signed
 * with the org key. The votes are published exactly as signed.
 */
export async function buildPublishedVoteList(input: VoteListInput): Promise<PublishedVoteList> {
  const hash = input.hash ?? nodeSha256;
  const sorted = [...input.votes].sort((a, b) => compareBytes(a.voteHash, b.voteHash));
  const counts = new Map<Choice, bigint>(input.proposal.choices.map((choice) => [choice, 0n]));
  const merkle = createMerkleRootBuilder(hash);
  const entries: PublishedVote[] = new Array(sorted.length);
  sorted.forEach((vote, index) => {
    counts.set(vote.choice, (counts.get(vote.choice) ?? 0n) + 1n);
    merkle.append(leafHash(vote.voteHash, hash));
    entries[index] = create(PublishedVoteSchema, {
      voteHash: vote.voteHash,
      choice: vote.choice,
      votingPublicKey: vote.votingPublicKey,
      signedVote: vote.signedVote,
    });
  });
  const root = merkle.root();
  const countList = input.proposal.choices.map((choice) => ({
    choice,
    count: counts.get(choice) ?? 0n,
  }));
  const total = BigInt(sorted.length);
  const head = create(VoteListHeadSchema, {
    proposalId: input.proposal.proposalId,
    proposalHash: input.proposalHash,
    merkleAlgorithm: MerkleTreeAlgorithm.RFC6962_SHA256,
    treeSize: total,
    merkleRoot: root,
    counts: countList,
    totalVotes: total,
    eligibleMemberCount: BigInt(input.eligibleMemberCount),
    quorumMet: quorumMet(
      input.proposal.quorumType,
      input.proposal.quorumValue,
      total,
      BigInt(input.eligibleMemberCount),
    ),
    closedAtMs: BigInt(input.closedAtMs),
    publishedAtMs: BigInt(input.publishedAtMs),
  });
  const signedHead: SignedVoteListHead = await signVoteListHead(input.signer, head);
  const certificates = new Map<string, EnclaveVoteKeyCertificate>();
  for (const certificate of input.certificates) certificates.set(certificate.keyId, certificate);
  return create(PublishedVoteListSchema, {
    proposalId: input.proposal.proposalId,
    signedProposal: input.signedProposal,
    signedHead,
    entries,
    countersigningKeys: [...certificates.values()].sort((a, b) => (a.keyId < b.keyId ? -1 : 1)),
    merkleAlgorithm: MerkleTreeAlgorithm.RFC6962_SHA256,
    merkleRoot: root,
    treeSize: total,
    counts: countList,
    totalVotes: total,
    publishedAtMs: BigInt(input.publishedAtMs),
  });
}
