import { create } from "@bufbuild/protobuf";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  type MerkleInclusionProof,
  MerkleInclusionProofSchema,
  MerkleSiblingSide,
} from "../../../gen/vettid/voting/v1/merkle_pb.js";
import { equalBytes } from "./bytes.js";
import {
  inclusionPath,
  leafHash,
  MAX_INCLUSION_PATH_LENGTH,
  MERKLE_HASH_BYTES,
  rootFromInclusionProof,
  rootOfLevels,
} from "./merkle.js";
import type { Sha256 } from "./vote.js";

/**
 * The MerkleInclusionProof (merkle.proto) of the vote at `index` of a published list, from the
 * tree's levels (`merkleLevels` over the entries' leaf hashes, in list order).
 */
export function buildMerkleInclusionProof(
  levels: readonly Uint8Array[],
  index: number,
  voteHashValue: Uint8Array,
  hash: Sha256 = sha256,
): MerkleInclusionProof {
  const treeSize = (levels[0]?.length ?? 0) / MERKLE_HASH_BYTES;
  return create(MerkleInclusionProofSchema, {
    voteHash: voteHashValue,
    leafIndex: BigInt(index),
    treeSize: BigInt(treeSize),
    leafHash: leafHash(voteHashValue, hash),
    path: inclusionPath(levels, index).map((step) => ({
      siblingHash: step.sibling,
      side: step.side === "left" ? MerkleSiblingSide.LEFT : MerkleSiblingSide.RIGHT,
    })),
    root: rootOfLevels(levels),
  });
}

/**
 * Checks a MerkleInclusionProof as merkle.proto prescribes, against `expectedRoot` (the
 * merkle_root of a signed head whose signature was verified): leaf_hash = SHA-256(0x00 ||
 * vote_hash); the path, walked with its stated sides, reaches `root`; the sides are those RFC 9162
 * §2.1.3.2 derives from leaf_index and tree_size; `root` equals `expectedRoot`; when
 * `expectedTreeSize` is given, tree_size equals it. Returns the problem, or undefined. Never throws.
 */
export function merkleInclusionProofProblem(
  proof: MerkleInclusionProof,
  expectedRoot: Uint8Array,
  expectedTreeSize?: bigint,
  hash: Sha256 = sha256,
): string | undefined {
  if (proof.voteHash.length !== MERKLE_HASH_BYTES) return "vote_hash is not 32 bytes";
  if (!equalBytes(proof.leafHash, leafHash(proof.voteHash, hash))) {
    return "leaf_hash is not SHA-256(0x00 || vote_hash)";
  }
  if (proof.path.length > MAX_INCLUSION_PATH_LENGTH) return "path is longer than 64 steps";
  if (expectedTreeSize !== undefined && proof.treeSize !== expectedTreeSize) {
    return `tree_size ${proof.treeSize} is not the signed head's ${expectedTreeSize}`;
  }
  if (
    proof.leafIndex >= BigInt(Number.MAX_SAFE_INTEGER) ||
    proof.treeSize > BigInt(Number.MAX_SAFE_INTEGER)
  ) {
    return "leaf_index or tree_size is out of range";
  }
  const computed = rootFromInclusionProof(
    Number(proof.leafIndex),
    Number(proof.treeSize),
    proof.leafHash,
    proof.path.map((step) => step.siblingHash),
    hash,
  );
  if (computed === undefined) return "the path does not fit leaf_index and tree_size";
  for (const [i, step] of proof.path.entries()) {
    const expected =
      computed.sides[i] === "left" ? MerkleSiblingSide.LEFT : MerkleSiblingSide.RIGHT;
    if (step.side !== expected) return `path step ${i} names the wrong side`;
  }
  if (!equalBytes(computed.root, proof.root)) return "the path does not lead to the proof's root";
  if (!equalBytes(proof.root, expectedRoot))
    return "the proof's root is not the signed Merkle root";
  return undefined;
}
