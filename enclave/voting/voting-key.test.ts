import { hkdfSync } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { hex, readTestdata } from "../../clients/sdk/voting/testing/vectors.js";
import { deriveVotingKey } from "./voting-key.js";

interface RfcVectors {
  hkdf_sha256: { name: string; ikm: string; salt: string; info: string; L: number; okm: string }[];
}
interface WycheproofHkdf {
  testGroups: {
    tests: {
      tcId: number;
      ikm: string;
      salt: string;
      info: string;
      size: number;
      okm: string;
      result: string;
    }[];
  }[];
}

describe("the HKDF-SHA-256 the voting key uses", () => {
  it("matches RFC 5869 A.1-A.3", () => {
    for (const v of readTestdata<RfcVectors>("rfc_vectors.json").hkdf_sha256) {
      const okm = hkdf(sha256, hex(v.ikm), hex(v.salt), hex(v.info), v.L);
      expect(Buffer.from(okm).toString("hex"), v.name).toBe(v.okm);
    }
  });
  it("matches every valid Wycheproof HKDF-SHA-256 case", () => {
    const cases = readTestdata<WycheproofHkdf>(
      "wycheproof_hkdf_sha256_test.json",
    ).testGroups.flatMap((g) => g.tests);
    for (const c of cases.filter((t) => t.result === "valid")) {
      const okm = hkdf(sha256, hex(c.ikm), hex(c.salt), hex(c.info), c.size);
      expect(Buffer.from(okm).toString("hex"), `tcId ${c.tcId}`).toBe(c.okm);
    }
  });
});

describe("deriveVotingKey", () => {
  const identity = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  const proposalId = "0b8f3c1e-2a4d-4e6f-8a9b-1c2d3e4f5a6b";

  it("is HKDF(ikm = seed, salt = ASCII proposal id, info = 'vettid-vote-v1', 32) then RFC 8032 key generation, checked by independent implementations (node's HKDF, noble's Ed25519)", () => {
    const seed = new Uint8Array(
      hkdfSync(
        "sha256",
        identity,
        Buffer.from(proposalId, "ascii"),
        Buffer.from("vettid-vote-v1", "ascii"),
        32,
      ),
    );
    const key = deriveVotingKey(identity, proposalId);
    expect(Buffer.from(key.seed).toString("hex")).toBe(Buffer.from(seed).toString("hex"));
    expect(key.publicKey).toEqual(ed25519.getPublicKey(seed));
    const message = new TextEncoder().encode("vettid-vote-sig-v1\0payload");
    expect(key.sign(message)).toEqual(ed25519.sign(message, seed));
    key.wipe();
    expect(key.seed.every((byte) => byte === 0)).toBe(true);
  });
  it("is deterministic per proposal and differs across proposals and from the identity key", () => {
    const a = deriveVotingKey(identity, proposalId).publicKey;
    expect(deriveVotingKey(identity, proposalId).publicKey).toEqual(a);
    expect(deriveVotingKey(identity, "0b8f3c1e-2a4d-4e6f-8a9b-1c2d3e4f5a6c").publicKey).not.toEqual(
      a,
    );
    expect(a).not.toEqual(hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
  });
  it("refuses a non-seed identity key or a proposal id that is not a lowercase UUID", () => {
    expect(() => deriveVotingKey(new Uint8Array(64), proposalId)).toThrow(/32-byte/);
    expect(() => deriveVotingKey(identity, proposalId.toUpperCase())).toThrow(/UUID/);
  });
});
