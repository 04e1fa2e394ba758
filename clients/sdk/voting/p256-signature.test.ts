import { p256 } from "@noble/curves/nist.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { SignatureAlgorithm } from "../../../gen/vettid/voting/v1/signature_pb.js";
import { toHex } from "./bytes.js";
import { PROPOSAL_CONTEXT, signedMessage, VOTE_LIST_HEAD_CONTEXT } from "./labels.js";
import {
  derSignatureProblem,
  keyIdOfSpki,
  p256PointFromSpki,
  p256SpkiFromPoint,
  verifyP256Der,
} from "./p256-signature.js";
import { hex, readTestdata } from "./testing/vectors.js";
import { backendSignatureFailure, trustKeys } from "./trusted-keys.js";
import { trustKeysNode } from "./trusted-keys-node.js";

interface Wycheproof {
  numberOfTests: number;
  testGroups: {
    publicKey: { uncompressed: string };
    publicKeyDer: string;
    tests: {
      tcId: number;
      comment: string;
      msg: string;
      sig: string;
      result: string;
      flags: string[];
    }[];
  }[];
}

describe("Wycheproof ecdsa_secp256r1_sha256_test.json (DER, the format KMS returns)", () => {
  const vectors = readTestdata<Wycheproof>("wycheproof_ecdsa_secp256r1_sha256_test.json");
  const cases = vectors.testGroups.flatMap((group) =>
    group.tests.map((test) => ({ ...test, spki: hex(group.publicKeyDer) })),
  );
  it("has all 484 cases", () => expect(cases).toHaveLength(484));
  it("verifyP256Der agrees with every expected result (high S accepted)", () => {
    const disagreements = cases.filter((c) => {
      const parsed = p256PointFromSpki(c.spki);
      if (!parsed.ok) return c.result === "valid";
      return verifyP256Der(hex(c.sig), hex(c.msg), parsed.point) !== (c.result === "valid");
    });
    expect(disagreements.map((c) => `${c.tcId} ${c.comment}`)).toEqual([]);
  });
  it("node:crypto behind the same DER check (trustKeysNode) agrees with every expected result", () => {
    const disagreements = cases.filter((c) => {
      let keys: ReturnType<typeof trustKeysNode>;
      try {
        keys = trustKeysNode([c.spki]);
      } catch {
        return c.result === "valid";
      }
      const id = keys.keyIds[0] as string;
      return keys.verify(id, hex(c.sig), hex(c.msg)) !== (c.result === "valid");
    });
    expect(disagreements.map((c) => `${c.tcId} ${c.comment}`)).toEqual([]);
  });
  it("accepts high-S signatures, which noble's default low-S check refuses", () => {
    const n = p256.Point.Fn.ORDER;
    const highS = cases.filter((c) => {
      if (c.result !== "valid") return false;
      const s = p256.Signature.fromBytes(hex(c.sig), "der").s;
      return s > n / 2n;
    });
    expect(highS.length).toBeGreaterThan(0);
    for (const c of highS) {
      const point = (p256PointFromSpki(c.spki) as { point: Uint8Array }).point;
      expect(verifyP256Der(hex(c.sig), hex(c.msg), point)).toBe(true);
      expect(p256.verify(hex(c.sig), hex(c.msg), point, { format: "der" })).toBe(false);
    }
  });
  it("names the DER problem of every invalid encoding it refuses before verifying", () => {
    const berCases = cases.filter(
      (c) =>
        c.result === "invalid" &&
        c.flags.some((f) => /Ber|InvalidEncoding|ModifiedInteger/i.test(f)),
    );
    expect(berCases.length).toBeGreaterThan(0);
    for (const c of berCases) {
      const point = (p256PointFromSpki(c.spki) as { point: Uint8Array }).point;
      expect(verifyP256Der(hex(c.sig), hex(c.msg), point)).toBe(false);
    }
    expect(derSignatureProblem(hex("3006020101020101"))).toBeUndefined();
    expect(derSignatureProblem(hex("300702010102010100"))).toContain("after s");
    expect(derSignatureProblem(hex("3008020101020101"))).toContain("length");
    expect(derSignatureProblem(hex("30070202000102010100"))).toBeDefined();
  });
});

describe("keys and backend signatures", () => {
  const secret = p256.utils.randomSecretKey();
  const point = p256.getPublicKey(secret, false);
  const spki = p256SpkiFromPoint(point);
  const keys = trustKeys([spki]);
  const payload = new Uint8Array([1, 2, 3]);
  const sign = (context: typeof PROPOSAL_CONTEXT | typeof VOTE_LIST_HEAD_CONTEXT) =>
    p256.sign(signedMessage(context, payload), secret, { format: "der", lowS: false });

  it("key id is the hex SHA-256 of the DER SPKI, and the SPKI round-trips", () => {
    expect(keyIdOfSpki(spki)).toBe(toHex(sha256(spki)));
    expect(p256PointFromSpki(spki)).toEqual({ ok: true, point });
    expect(p256PointFromSpki(spki.subarray(1)).ok).toBe(false);
    const otherCurve = spki.slice();
    otherCurve[25] = (otherCurve[25] as number) ^ 1;
    expect(p256PointFromSpki(otherCurve).ok).toBe(false);
  });
  it("verifies under the right context only, with a pinned key only", () => {
    const object = {
      payload,
      signature: sign(PROPOSAL_CONTEXT),
      signingKeyId: keyIdOfSpki(spki),
      algorithm: SignatureAlgorithm.ECDSA_P256_SHA256,
    };
    expect(backendSignatureFailure(object, PROPOSAL_CONTEXT, keys)).toBeUndefined();
    expect(backendSignatureFailure(object, VOTE_LIST_HEAD_CONTEXT, keys)).toBe("bad_signature");
    expect(
      backendSignatureFailure({ ...object, signingKeyId: "00".repeat(32) }, PROPOSAL_CONTEXT, keys),
    ).toBe("unknown_key");
    expect(
      backendSignatureFailure(
        { ...object, algorithm: SignatureAlgorithm.ED25519 },
        PROPOSAL_CONTEXT,
        keys,
      ),
    ).toBe("unsupported_algorithm");
    expect(
      backendSignatureFailure(
        { ...object, payload: new Uint8Array([1, 2, 4]) },
        PROPOSAL_CONTEXT,
        keys,
      ),
    ).toBe("bad_signature");
  });
  it("refuses to pin a key that is not a P-256 SPKI, naming it", () => {
    expect(() => trustKeys([spki, new Uint8Array(10)])).toThrow(/trusted key 1/);
  });
});
