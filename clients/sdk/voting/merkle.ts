import { sha256 } from "@noble/hashes/sha2.js";
import { equalBytes } from "./bytes.js";
import type { Sha256 } from "./vote.js";

/**
 * The Merkle tree hash of RFC 9162 §2.1 (RFC 6962 §2.1), with SHA-256:
 * - MTH({}) = SHA-256() (the empty string);
 * - MTH({d0}) = SHA-256(0x00 || d0);
 * - MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the largest power of two < n.
 * No odd-node duplication: a lone last node is carried up as it is. Exported for third parties;
 * leaf data is any bytes (a vote list's leaves are its 32-byte vote hashes, merkle.proto).
 */

/** SHA-256 output length. */
export const MERKLE_HASH_BYTES = 32;
/** Longest audit path accepted (a tree of 2^64 leaves). */
export const MAX_INCLUSION_PATH_LENGTH = 64;

/** MTH of the empty tree: SHA-256 of the empty string. */
export function emptyTreeHash(hash: Sha256 = sha256): Uint8Array {
  return hash(new Uint8Array(0));
}

/** The leaf hash: SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array, hash: Sha256 = sha256): Uint8Array {
  const input = new Uint8Array(data.length + 1);
  input.set(data, 1);
  return hash(input);
}

/** An interior node's hash: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array, hash: Sha256 = sha256): Uint8Array {
  const input = new Uint8Array(1 + left.length + right.length);
  input[0] = 1;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return hash(input);
}

/** MTH over leaf data (RFC 9162 §2.1.1). */
export function merkleTreeHash(leaves: readonly Uint8Array[], hash: Sha256 = sha256): Uint8Array {
  const builder = createMerkleRootBuilder(hash);
  for (const leaf of leaves) builder.append(leafHash(leaf, hash));
  return builder.root();
}

/** Computes MTH from leaf hashes appended in order, keeping only O(log n) hashes. */
export interface MerkleRootBuilder {
  /** Appends the next leaf hash (32 bytes). */
  append(leafHashValue: Uint8Array): void;
  /** Number of leaves appended. */
  readonly size: number;
  /** MTH of the leaves appended so far. */
  root(): Uint8Array;
}

/**
 * A streaming MTH: perfect subtrees are merged as soon as they are complete (a compact range),
 * and {@link MerkleRootBuilder.root} folds the remaining ones from the right, which is RFC 9162's
 * split at the largest power of two. For lists too large to hold the tree.
 */
export function createMerkleRootBuilder(hash: Sha256 = sha256): MerkleRootBuilder {
  const hashes: Uint8Array[] = [];
  const sizes: number[] = [];
  let size = 0;
  return {
    append(value) {
      if (value.length !== MERKLE_HASH_BYTES) throw new RangeError("a leaf hash is 32 bytes");
      hashes.push(value);
      sizes.push(1);
      size++;
      while (sizes.length > 1 && sizes[sizes.length - 1] === sizes[sizes.length - 2]) {
        const right = hashes.pop() as Uint8Array;
        const left = hashes.pop() as Uint8Array;
        const merged = (sizes.pop() as number) * 2;
        sizes.pop();
        hashes.push(nodeHash(left, right, hash));
        sizes.push(merged);
      }
    },
    get size() {
      return size;
    },
    root() {
      if (hashes.length === 0) return emptyTreeHash(hash);
      let accumulator = hashes[hashes.length - 1] as Uint8Array;
      for (let i = hashes.length - 2; i >= 0; i--) {
        accumulator = nodeHash(hashes[i] as Uint8Array, accumulator, hash);
      }
      return accumulator;
    },
  };
}

/** MTH from leaf hashes already computed. */
export function merkleRootOfLeafHashes(
  leafHashes: readonly Uint8Array[],
  hash: Sha256 = sha256,
): Uint8Array {
  const builder = createMerkleRootBuilder(hash);
  for (const value of leafHashes) builder.append(value);
  return builder.root();
}

/**
 * The whole tree over `leafHashes`, one flat buffer of 32-byte hashes per level, bottom (the leaf
 * hashes) to top (the root alone), for serving inclusion proofs. Pairs are hashed left to right
 * and a lone last node is carried up unchanged, which builds exactly RFC 9162's tree (its left
 * subtree is always the largest complete one). Memory: about 64 bytes per leaf. Empty input gives
 * no levels.
 */
export function merkleLevels(
  leafHashes: readonly Uint8Array[],
  hash: Sha256 = sha256,
): Uint8Array[] {
  if (leafHashes.length === 0) return [];
  let level = new Uint8Array(leafHashes.length * MERKLE_HASH_BYTES);
  leafHashes.forEach((value, i) => {
    if (value.length !== MERKLE_HASH_BYTES) throw new RangeError(`leaf hash ${i} is not 32 bytes`);
    level.set(value, i * MERKLE_HASH_BYTES);
  });
  const levels = [level];
  const scratch = new Uint8Array(1 + 2 * MERKLE_HASH_BYTES);
  scratch[0] = 1;
  while (level.length > MERKLE_HASH_BYTES) {
    const count = level.length / MERKLE_HASH_BYTES;
    const next = new Uint8Array(Math.ceil(count / 2) * MERKLE_HASH_BYTES);
    for (let i = 0; i + 1 < count; i += 2) {
      scratch.set(level.subarray(i * MERKLE_HASH_BYTES, (i + 2) * MERKLE_HASH_BYTES), 1);
      next.set(hash(scratch), (i >> 1) * MERKLE_HASH_BYTES);
    }
    if (count % 2 === 1)
      next.set(level.subarray((count - 1) * MERKLE_HASH_BYTES), next.length - MERKLE_HASH_BYTES);
    levels.push(next);
    level = next;
  }
  return levels;
}

/** One step of an audit path: the sibling hash and on which side of the running hash it sits. */
export interface InclusionStep {
  readonly sibling: Uint8Array;
  /** `left`: h = node(sibling, h); `right`: h = node(h, sibling). */
  readonly side: "left" | "right";
}

/**
 * The audit path PATH(m, D[n]) of RFC 9162 §2.1.3.1 for leaf `index`, from the leaf up, with
 * sides, from the tree's levels ({@link merkleLevels}).
 *
 * @throws RangeError when `index` is not a leaf of the tree.
 */
export function inclusionPath(levels: readonly Uint8Array[], index: number): InclusionStep[] {
  const size = (levels[0]?.length ?? 0) / MERKLE_HASH_BYTES;
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`leaf index ${index} is not in a tree of ${size} leaves`);
  }
  const path: InclusionStep[] = [];
  let position = index;
  for (let level = 0; level < levels.length - 1; level++) {
    const nodes = levels[level] as Uint8Array;
    const sibling = position ^ 1;
    if (sibling < nodes.length / MERKLE_HASH_BYTES) {
      path.push({
        sibling: nodes.slice(sibling * MERKLE_HASH_BYTES, (sibling + 1) * MERKLE_HASH_BYTES),
        side: sibling < position ? "left" : "right",
      });
    }
    position >>= 1;
  }
  return path;
}

/** The root of the tree whose levels these are. @throws RangeError for no levels. */
export function rootOfLevels(levels: readonly Uint8Array[]): Uint8Array {
  const top = levels[levels.length - 1];
  if (top === undefined) throw new RangeError("an empty tree has no levels");
  return top.slice(0, MERKLE_HASH_BYTES);
}

/**
 * The root an inclusion proof leads to, by RFC 9162 §2.1.3.2 (the sides follow from the index and
 * the tree size), or undefined when the proof cannot be one for that index and size (index out of
 * range, wrong length, hashes not 32 bytes). Also returns the side of each step, for comparison
 * with a proof that states them.
 */
export function rootFromInclusionProof(
  leafIndex: number,
  treeSize: number,
  leafHashValue: Uint8Array,
  proof: readonly Uint8Array[],
  hash: Sha256 = sha256,
): { root: Uint8Array; sides: ("left" | "right")[] } | undefined {
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize)) return undefined;
  if (leafIndex < 0 || leafIndex >= treeSize) return undefined;
  if (leafHashValue.length !== MERKLE_HASH_BYTES || proof.length > MAX_INCLUSION_PATH_LENGTH) {
    return undefined;
  }
  // RFC 9162 §2.1.3.2 with fn, sn as bigints (indexes up to 2^64 - 1).
  let fn = BigInt(leafIndex);
  let sn = BigInt(treeSize - 1);
  let r = leafHashValue;
  const sides: ("left" | "right")[] = [];
  for (const p of proof) {
    if (p.length !== MERKLE_HASH_BYTES) return undefined;
    if (sn === 0n) return undefined;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r, hash);
      sides.push("left");
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = nodeHash(r, p, hash);
      sides.push("right");
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) return undefined;
  return { root: r, sides };
}

/** Whether `proof` shows that `leafHashValue` is leaf `leafIndex` of the tree `root` of `treeSize` leaves. */
export function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leafHashValue: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
  hash: Sha256 = sha256,
): boolean {
  const computed = rootFromInclusionProof(leafIndex, treeSize, leafHashValue, proof, hash);
  return computed !== undefined && equalBytes(computed.root, root);
}
