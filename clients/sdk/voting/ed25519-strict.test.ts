import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import { createEd25519KeyVerifier, verifyEd25519Node } from "./ed25519-node.js";
import {
  ed25519PublicKeyProblem,
  ed25519SignatureProblem,
  verifyEd25519Strict,
} from "./ed25519-strict.js";
import { hex, readTestdata } from "./testing/vectors.js";

interface RfcVectors {
  ed25519: {
    name: string;
    secret_key: string;
    public_key: string;
    message: string;
    signature: string;
  }[];
}
interface Wycheproof {
  testGroups: {
    publicKey: { pk: string };
    tests: { tcId: number; msg: string; sig: string; result: string }[];
  }[];
}
interface Zip215Case {
  vk_bytes: string;
  sig_bytes: string;
  valid_legacy: boolean;
  valid_zip215: boolean;
}

const VERIFIERS = [
  ["noble strict", verifyEd25519Strict],
  ["node:crypto + checks", verifyEd25519Node],
] as const;

describe("RFC 8032 §7.1 TEST 1-3", () => {
  const { ed25519: cases } = readTestdata<RfcVectors>("rfc_vectors.json");
  for (const [name, verify] of VERIFIERS) {
    it(`${name} verifies every RFC signature and refuses it over another message`, () => {
      for (const c of cases) {
        expect(verify(hex(c.signature), hex(c.message), hex(c.public_key)), c.name).toBe(true);
        expect(verify(hex(c.signature), hex(`${c.message}00`), hex(c.public_key)), c.name).toBe(
          false,
        );
      }
    });
  }
});

describe("Wycheproof ed25519_test.json (151 cases)", () => {
  const vectors = readTestdata<Wycheproof>("wycheproof_ed25519_test.json");
  const cases = vectors.testGroups.flatMap((group) =>
    group.tests.map((test) => ({ ...test, pk: group.publicKey.pk })),
  );
  it("has all 151 cases", () => expect(cases).toHaveLength(151));
  for (const [name, verify] of VERIFIERS) {
    it(`${name} agrees with every expected result`, () => {
      const disagreements = cases.filter(
        (c) => verify(hex(c.sig), hex(c.msg), hex(c.pk)) !== (c.result === "valid"),
      );
      expect(disagreements.map((c) => c.tcId)).toEqual([]);
    });
  }
});

describe("ZIP-215 edge cases (196, small-order keys and non-canonical encodings)", () => {
  const cases = readTestdata<Zip215Case[]>("noble_zip215.json");
  const message = new TextEncoder().encode("Zcash");
  it("has 196 cases", () => expect(cases).toHaveLength(196));
  it("node:crypto alone accepts some (the reason for the explicit checks)", () => {
    const accepted = cases.filter((c) => {
      try {
        const key = createPublicKey({
          key: {
            kty: "OKP",
            crv: "Ed25519",
            x: Buffer.from(c.vk_bytes, "hex").toString("base64url"),
          },
          format: "jwk",
        });
        return nodeVerify(null, message, key, hex(c.sig_bytes));
      } catch {
        return false;
      }
    });
    expect(accepted.length).toBeGreaterThan(0);
    for (const c of accepted) expect(ed25519PublicKeyProblem(hex(c.vk_bytes))).toBeDefined();
  });
  for (const [name, verify] of VERIFIERS) {
    it(`${name} accepts none of them`, () => {
      expect(cases.filter((c) => verify(hex(c.sig_bytes), message, hex(c.vk_bytes)))).toEqual([]);
    });
  }
});

describe("strict key and signature checks", () => {
  it("flags exactly the keys noble calls small order, among all ZIP-215 keys", () => {
    const keys = readTestdata<Zip215Case[]>("noble_zip215.json").map((c) => hex(c.vk_bytes));
    for (const key of keys) {
      let small: boolean | undefined;
      try {
        small = ed25519.Point.fromBytes(key, true).isSmallOrder();
      } catch {
        small = undefined; // not a point at all
      }
      const problem = ed25519PublicKeyProblem(key);
      if (small === true) expect(problem).toBeDefined();
      if (small === false) expect(problem ?? "").not.toContain("small order");
    }
  });
  it("refuses the identity in both sign encodings and keys with y >= p", () => {
    const identity = new Uint8Array(32);
    identity[0] = 1;
    expect(ed25519PublicKeyProblem(identity)).toContain("small order");
    const negativeZero = identity.slice();
    negativeZero[31] = 0x80;
    expect(ed25519PublicKeyProblem(negativeZero)).toBeDefined();
    const yIsP = hex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    expect(ed25519PublicKeyProblem(yIsP)).toContain("non-canonical");
    const yIsPPlus2 = hex("efffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    expect(ed25519PublicKeyProblem(yIsPPlus2)).toContain("non-canonical");
  });
  it("accepts ordinary keys", () => {
    for (let i = 0; i < 50; i++) {
      expect(
        ed25519PublicKeyProblem(ed25519.getPublicKey(ed25519.utils.randomSecretKey())),
      ).toBeUndefined();
    }
  });
  it("refuses S >= L and wrong lengths", () => {
    const secret = ed25519.utils.randomSecretKey();
    const message = new Uint8Array([1, 2, 3]);
    const signature = ed25519.sign(message, secret);
    expect(ed25519SignatureProblem(signature)).toBeUndefined();
    // S + L: the classic malleated signature, same value modulo L.
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(signature[32 + i] as number);
    let t = s + L;
    const malleated = signature.slice();
    for (let i = 0; i < 32; i++) {
      malleated[32 + i] = Number(t & 0xffn);
      t >>= 8n;
    }
    expect(ed25519SignatureProblem(malleated)).toContain("not below L");
    expect(verifyEd25519Node(malleated, message, ed25519.getPublicKey(secret))).toBe(false);
    expect(ed25519SignatureProblem(signature.subarray(0, 63))).toBeDefined();
  });
  it("a bound key verifier agrees with the one-shot verifier and refuses a small-order key", () => {
    const secret = ed25519.utils.randomSecretKey();
    const publicKey = ed25519.getPublicKey(secret);
    const verifier = createEd25519KeyVerifier(publicKey);
    const message = new Uint8Array([9]);
    expect(verifier?.(ed25519.sign(message, secret), message)).toBe(true);
    expect(verifier?.(ed25519.sign(message, secret), new Uint8Array([8]))).toBe(false);
    const identity = new Uint8Array(32);
    identity[0] = 1;
    expect(createEd25519KeyVerifier(identity)).toBeUndefined();
  });
});
