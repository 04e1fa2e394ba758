import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { MerkleSiblingSide } from "../../../gen/vettid/voting/v1/merkle_pb.js";
import { toHex } from "./bytes.js";
import {
  createMerkleRootBuilder,
  emptyTreeHash,
  inclusionPath,
  leafHash,
  merkleLevels,
  merkleRootOfLeafHashes,
  merkleTreeHash,
  nodeHash,
  rootFromInclusionProof,
  rootOfLevels,
  verifyInclusion,
} from "./merkle.js";
import { buildMerkleInclusionProof, merkleInclusionProofProblem } from "./merkle-proof.js";
import { nodeSha256 } from "./sha256-node.js";
import { hex, readTestdata } from "./testing/vectors.js";

interface Vectors {
  leaves: string[];
  roots: string[];
  leafHashes: string[];
  inclusionProofs: { leafIndex: number; treeSize: number; proof: string[] }[];
  happyPath_inclusion_4: {
    leafIdx: number;
    treeSize: number;
    root: string;
    leafHash: string;
    proof: string[];
  };
}

const vectors = readTestdata<Vectors>("rfc6962-merkle.json");
const leaves = vectors.leaves.map(hex);

/** RFC 9162 §2.1.1 written as the RFC writes it: recursive, no shortcuts. The reference. */
function referenceMth(data: readonly Uint8Array[]): Uint8Array {
  if (data.length === 0) return sha256(new Uint8Array(0));
  if (data.length === 1) return sha256(Uint8Array.of(0, ...(data[0] as Uint8Array)));
  let k = 1;
  while (k * 2 < data.length) k *= 2;
  return sha256(
    Uint8Array.of(1, ...referenceMth(data.slice(0, k)), ...referenceMth(data.slice(k))),
  );
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]), recursive. */
function referencePath(m: number, data: readonly Uint8Array[]): Uint8Array[] {
  if (data.length <= 1) return [];
  let k = 1;
  while (k * 2 < data.length) k *= 2;
  if (m < k) return [...referencePath(m, data.slice(0, k)), referenceMth(data.slice(k))];
  return [...referencePath(m - k, data.slice(k)), referenceMth(data.slice(0, k))];
}

describe("RFC 6962 / 9162 tree hash: transparency-dev/merkle vectors", () => {
  it("leaf hashes", () => {
    expect(leaves.map((leaf) => toHex(leafHash(leaf)))).toEqual(vectors.leafHashes);
  });
  it("the root of every prefix of the 8 leaves, 0 to 8, by every construction", () => {
    for (let n = 0; n <= 8; n++) {
      const prefix = leaves.slice(0, n);
      expect(toHex(merkleTreeHash(prefix)), `size ${n}`).toBe(vectors.roots[n]);
      expect(toHex(merkleTreeHash(prefix, nodeSha256)), `size ${n}`).toBe(vectors.roots[n]);
      if (n > 0) {
        expect(toHex(rootOfLevels(merkleLevels(prefix.map((l) => leafHash(l))))), `size ${n}`).toBe(
          vectors.roots[n],
        );
      }
    }
    expect(toHex(emptyTreeHash())).toBe(vectors.roots[0]);
  });
  it("the published inclusion proofs are the ones built, and verify", () => {
    for (const v of vectors.inclusionProofs) {
      const data = leaves.slice(0, v.treeSize);
      const levels = merkleLevels(data.map((l) => leafHash(l)));
      const built = inclusionPath(levels, v.leafIndex).map((s) => toHex(s.sibling));
      expect(built, `${v.leafIndex}/${v.treeSize}`).toEqual(v.proof);
      const root = hex(vectors.roots[v.treeSize] as string);
      expect(
        verifyInclusion(
          v.leafIndex,
          v.treeSize,
          leafHash(leaves[v.leafIndex] as Uint8Array),
          v.proof.map(hex),
          root,
        ),
      ).toBe(true);
    }
    const happy = vectors.happyPath_inclusion_4;
    const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));
    expect(
      verifyInclusion(
        happy.leafIdx,
        happy.treeSize,
        b64(happy.leafHash),
        happy.proof.map(b64),
        b64(happy.root),
      ),
    ).toBe(true);
  });
  it("refuses every corruption the transparency-dev verifier tests refuse", () => {
    const someHash = hex("abacaba000000000000000000000000000000000000000000060061e00123456");
    for (const v of vectors.inclusionProofs) {
      const root = hex(vectors.roots[v.treeSize] as string);
      const leaf = leafHash(leaves[v.leafIndex] as Uint8Array);
      const proof = v.proof.map(hex);
      const probes: [number, number, Uint8Array, Uint8Array, Uint8Array[], string][] = [
        [v.leafIndex - 1, v.treeSize, root, leaf, proof, "leafIndex - 1"],
        [v.leafIndex + 1, v.treeSize, root, leaf, proof, "leafIndex + 1"],
        [v.leafIndex ^ 2, v.treeSize, root, leaf, proof, "leafIndex ^ 2"],
        [v.leafIndex, v.treeSize * 2, root, leaf, proof, "treeSize * 2"],
        [v.leafIndex, Math.floor(v.treeSize / 2), root, leaf, proof, "treeSize / 2"],
        [v.leafIndex, v.treeSize, root, new TextEncoder().encode("WrongLeaf"), proof, "wrong leaf"],
        [v.leafIndex, v.treeSize, hex(vectors.roots[0] as string), leaf, proof, "empty root"],
        [v.leafIndex, v.treeSize, someHash, leaf, proof, "random root"],
        [v.leafIndex, v.treeSize, root, leaf, [...proof, new Uint8Array(0)], "trailing garbage"],
        [v.leafIndex, v.treeSize, root, leaf, [...proof, root], "trailing root"],
        [v.leafIndex, v.treeSize, root, leaf, [new Uint8Array(0), ...proof], "preceding garbage"],
        [v.leafIndex, v.treeSize, root, leaf, [root, ...proof], "preceding root"],
        [v.leafIndex, v.treeSize, root, leaf, proof.slice(0, -1), "removed component"],
      ];
      proof.forEach((_, i) => {
        const modified = proof.map((p) => p.slice());
        const target = modified[i] as Uint8Array;
        target[0] = (target[0] as number) ^ 8;
        probes.push([v.leafIndex, v.treeSize, root, leaf, modified, `modified proof[${i}] bit 3`]);
      });
      if (proof.length > 1) {
        probes.push([
          v.leafIndex,
          v.treeSize,
          root,
          leaf,
          [proof[0] as Uint8Array, someHash, ...proof.slice(1)],
          "inserted component",
        ]);
      }
      for (const [index, size, r, l, p, desc] of probes) {
        expect(verifyInclusion(index, size, l, p, r), `${v.leafIndex}/${v.treeSize}: ${desc}`).toBe(
          false,
        );
      }
    }
  });
  it("edge cases: no proof for a single leaf, nothing for index >= size", () => {
    const single = leafHash(new TextEncoder().encode("data"));
    expect(verifyInclusion(0, 1, single, [], single)).toBe(true);
    expect(verifyInclusion(0, 0, single, [], emptyTreeHash())).toBe(false);
    expect(verifyInclusion(1, 1, single, [], single)).toBe(false);
    expect(verifyInclusion(0, 1, new Uint8Array(0), [], new Uint8Array(0))).toBe(false);
  });
});

describe("against the RFC's recursive definition (an independent implementation)", () => {
  const data = Array.from({ length: 140 }, (_, i) => sha256(Uint8Array.of(i, i >> 8)));
  it("roots of every size 0..140 agree (levels, streaming builder, recursive)", () => {
    for (let n = 0; n <= data.length; n++) {
      const prefix = data.slice(0, n);
      const expected = toHex(referenceMth(prefix));
      const hashes = prefix.map((d) => leafHash(d));
      expect(toHex(merkleRootOfLeafHashes(hashes)), `size ${n}`).toBe(expected);
      if (n > 0)
        expect(toHex(rootOfLevels(merkleLevels(hashes, nodeSha256))), `size ${n}`).toBe(expected);
    }
  });
  it("every audit path of sizes 1..70 equals PATH(m, D[n]) and verifies, with the stated sides", () => {
    for (let n = 1; n <= 70; n++) {
      const prefix = data.slice(0, n);
      const levels = merkleLevels(prefix.map((d) => leafHash(d)));
      const root = rootOfLevels(levels);
      for (let m = 0; m < n; m++) {
        const path = inclusionPath(levels, m);
        expect(
          path.map((s) => toHex(s.sibling)),
          `${m}/${n}`,
        ).toEqual(referencePath(m, prefix).map(toHex));
        const walked = rootFromInclusionProof(
          m,
          n,
          leafHash(prefix[m] as Uint8Array),
          path.map((s) => s.sibling),
        );
        expect(walked?.sides).toEqual(path.map((s) => s.side));
        expect(toHex(walked?.root ?? new Uint8Array(0))).toBe(toHex(root));
        const proof = buildMerkleInclusionProof(levels, m, prefix[m] as Uint8Array);
        expect(merkleInclusionProofProblem(proof, root, BigInt(n))).toBeUndefined();
      }
    }
  });
  it("a proof whose stated sides are swapped, or whose root is not the signed one, is refused", () => {
    const prefix = data.slice(0, 13);
    const levels = merkleLevels(prefix.map((d) => leafHash(d)));
    const proof = buildMerkleInclusionProof(levels, 6, prefix[6] as Uint8Array);
    const root = rootOfLevels(levels);
    const swapped = structuredClone(proof);
    const step = swapped.path[0];
    if (step !== undefined)
      step.side =
        step.side === MerkleSiblingSide.LEFT ? MerkleSiblingSide.RIGHT : MerkleSiblingSide.LEFT;
    expect(merkleInclusionProofProblem(swapped, root)).toContain("side");
    expect(merkleInclusionProofProblem(proof, nodeHash(root, root))).toContain(
      "signed Merkle root",
    );
    expect(merkleInclusionProofProblem(proof, root, 14n)).toContain("tree_size");
  });
  it("the streaming builder reports its size", () => {
    const builder = createMerkleRootBuilder();
    for (const d of data.slice(0, 5)) builder.append(leafHash(d));
    expect(builder.size).toBe(5);
    expect(() => builder.append(new Uint8Array(31))).toThrow(RangeError);
  });
});
