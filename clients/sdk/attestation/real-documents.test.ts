import { X509Certificate } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { p384 } from "@noble/curves/nist.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { decode, encode } from "cbor2";
import { describe, expect, it } from "vitest";
import { TrustRoot, VerificationFailure } from "../../../gen/vettid/attestation/v1/document_pb.js";
import { PcrSetSchema } from "../../../gen/vettid/attestation/v1/pcr_pb.js";
import { sigStructure } from "./cose-sign1.js";
import {
  AWS_NITRO_ROOT_G1_SHA256,
  type VerifyAttestationOptions,
  verifyAttestation,
} from "./index.js";
import {
  AWS_ROOT_DER,
  expectedPcrs,
  type NitroVector,
  TODAY_MS,
  VECTOR_01,
  VECTOR_03_DEBUG,
  withByte,
} from "./testing/vectors.js";

/** Document 01 is 7 min 59 s old at the time its source verifies it; allow that much. */
const VECTOR_01_AGE_ALLOWANCE = { maxAgeMs: 10 * 60_000 };

/** The set of PCRs 0–2 (and 4, the parent instance) a vector carries, as an accepted build. */
function setOf(vector: NitroVector, id = "build-a", indexes = [0, 1, 2]) {
  const pcrs = expectedPcrs(vector);
  return create(PcrSetSchema, {
    id,
    pcrs: Object.fromEntries(indexes.map((index) => [index, pcrs[index] as Uint8Array])),
  });
}

function verify01(options: VerifyAttestationOptions = {}) {
  return verifyAttestation(VECTOR_01.raw, {
    at: VECTOR_01.verifyAtMs,
    ...VECTOR_01_AGE_ALLOWANCE,
    pcrSets: [setOf(VECTOR_01)],
    ...options,
  });
}

function verify03(options: VerifyAttestationOptions = {}) {
  return verifyAttestation(VECTOR_03_DEBUG.raw, {
    at: VECTOR_03_DEBUG.verifyAtMs,
    allowDebug: true,
    pcrSets: [setOf(VECTOR_03_DEBUG)],
    ...options,
  });
}

describe("the pinned AWS root", () => {
  it("is the SHA-256 of the AWS Nitro root G1 certificate (DER) in testdata", () => {
    expect(bytesToHex(sha256(AWS_ROOT_DER))).toBe(AWS_NITRO_ROOT_G1_SHA256);
  });

  it("is what every real document carries as cabundle[0]", () => {
    for (const vector of [VECTOR_01, VECTOR_03_DEBUG]) {
      const result = verifyAttestation(vector.raw, { at: vector.verifyAtMs, allowAnyPcrs: true });
      expect(result.document?.cabundle[0]).toEqual(AWS_ROOT_DER);
    }
  });
});

describe("real AWS documents at the time their sources verify them", () => {
  it("01 verifies, and its decoded fields are those expected.json records", () => {
    expect(bytesToHex(sha256(VECTOR_01.raw))).toBe(VECTOR_01.expected.sha256_of_cbor_bytes);
    expect(VECTOR_01.raw[0]).toBe(0x84); // untagged
    const result = verify01();
    expect(result.failure).toBe(VerificationFailure.UNSPECIFIED);
    expect(result.valid).toBe(true);
    if (!result.valid) return;
    const { document } = result;
    const expected = VECTOR_01.expected;
    expect(result.trustRoot).toBe(TrustRoot.AWS_NITRO_G1);
    expect(result.matchedPcrSetId).toBe("build-a");
    expect(result.verifiedAtMs).toBe(BigInt(VECTOR_01.verifyAtMs));
    expect(document.moduleId).toBe(expected.module_id);
    expect(document.digest).toBe("SHA384");
    expect(document.timestampMs).toBe(BigInt(expected.timestamp_ms));
    expect(
      Object.fromEntries(Object.entries(document.pcrs).map(([i, v]) => [i, bytesToHex(v)])),
    ).toEqual(expected.pcrs);
    expect(document.publicKey).toBeUndefined(); // CBOR null
    expect(bytesToHex(document.userData ?? new Uint8Array())).toBe(expected.user_data?.hex);
    expect(bytesToHex(document.nonce ?? new Uint8Array())).toBe(expected.nonce?.hex);
    expect(document.cabundle).toHaveLength(expected.cabundle_subject_cn.length);
  });

  it("01 verifies with the nonce and user_data its source asserts", () => {
    const result = verify01({
      expectedNonce: hexToBytes(VECTOR_01.expected.nonce?.hex ?? ""),
      expectedUserData: hexToBytes(VECTOR_01.expected.user_data?.hex ?? ""),
    });
    expect(result.valid).toBe(true);
  });

  it("03 (debug, high-S, 1024-byte fields) verifies when debug documents are allowed", () => {
    const result = verify03();
    expect(result.failure).toBe(VerificationFailure.UNSPECIFIED);
    expect(result.valid).toBe(true);
    if (!result.valid) return;
    const { document } = result;
    const expected = VECTOR_03_DEBUG.expected;
    expect(document.timestampMs).toBe(BigInt(Date.parse("2024-09-07T14:38:06.508Z")));
    for (const [field, value] of [
      [expected.public_key, document.publicKey],
      [expected.user_data, document.userData],
      [expected.nonce, document.nonce],
    ] as const) {
      expect(value).toHaveLength(1024);
      expect(bytesToHex(sha256(value ?? new Uint8Array()))).toBe(field?.sha256);
    }
  });

  it("03's signature is high-S: a verifier enforcing low S would reject it", () => {
    expect(VECTOR_03_DEBUG.expected.signature_high_s).toBe(true);
    const [protectedHeader, , payload, signature] = decode(VECTOR_03_DEBUG.raw) as Uint8Array[];
    const message = sigStructure(protectedHeader as Uint8Array, payload as Uint8Array);
    const leaf = verify03().document?.certificate as Uint8Array;
    expect(leaf).toBeDefined();
    expect(p384.Signature.fromBytes(signature as Uint8Array).hasHighS()).toBe(true);
    const key = p384PublicKey(leaf);
    expect(p384.verify(signature as Uint8Array, message, key)).toBe(false); // lowS enforced
    expect(p384.verify(signature as Uint8Array, message, key, { lowS: false })).toBe(true);
  });

  it("03 with s replaced by n−s (the low-S twin of the same signature) verifies too", () => {
    const [protectedHeader, unprotected, payload, signature] = decode(VECTOR_03_DEBUG.raw, {
      preferMap: true,
    }) as [Uint8Array, Map<unknown, unknown>, Uint8Array, Uint8Array];
    const high = p384.Signature.fromBytes(signature);
    const twin = new p384.Signature(high.r, p384.Point.Fn.ORDER - high.s).toBytes();
    expect(p384.Signature.fromBytes(twin).hasHighS()).toBe(false);
    expect(bytesToHex(twin)).not.toBe(bytesToHex(signature));
    const document = encode([protectedHeader, unprotected, payload, twin]);
    const result = verifyAttestation(document, {
      at: VECTOR_03_DEBUG.verifyAtMs,
      allowDebug: true,
      allowAnyPcrs: true,
    });
    expect(result.valid).toBe(true);
  });

  it("accepts the tagged form (tag 18) of a real document", () => {
    const tagged = Uint8Array.of(0xd2, ...VECTOR_01.raw);
    const result = verifyAttestation(tagged, {
      at: VECTOR_01.verifyAtMs,
      ...VECTOR_01_AGE_ALLOWANCE,
      allowAnyPcrs: true,
    });
    expect(result.valid).toBe(true);
  });

  it("verifies anywhere inside the chain's validity window, and nowhere outside it", () => {
    for (const vector of [VECTOR_01, VECTOR_03_DEBUG]) {
      const from = Date.parse(vector.expected.chain_valid_window.from);
      const to = Date.parse(vector.expected.chain_valid_window.to);
      const options = { allowDebug: true, allowAnyPcrs: true, maxAgeMs: Infinity };
      expect(verifyAttestation(vector.raw, { ...options, at: to }).valid).toBe(true);
      expect(verifyAttestation(vector.raw, { ...options, at: to + 1000 }).failure).toBe(
        VerificationFailure.CERTIFICATE_EXPIRED,
      );
      expect(
        verifyAttestation(vector.raw, { ...options, at: from - 1000, clockSkewMs: 0 }).failure,
      ).toBe(VerificationFailure.CERTIFICATE_NOT_YET_VALID);
      // A client clock a little behind AWS's: the leaf starts ~3 s before the document.
      expect(verifyAttestation(vector.raw, { ...options, at: from - 1000 }).valid).toBe(true);
    }
  });
});

describe("real AWS documents today", () => {
  it("fail with CERTIFICATE_EXPIRED at 2026-11-23 and at the real current time", () => {
    for (const vector of [VECTOR_01, VECTOR_03_DEBUG]) {
      for (const at of [TODAY_MS, undefined]) {
        const result = verifyAttestation(vector.raw, {
          at,
          allowDebug: true,
          allowAnyPcrs: true,
        });
        expect(result.valid).toBe(false);
        expect(result.failure).toBe(VerificationFailure.CERTIFICATE_EXPIRED);
        expect(result.trustRoot).toBe(TrustRoot.UNSPECIFIED);
        expect(result.document?.moduleId).toBe(vector.expected.module_id); // kept for diagnostics
      }
    }
  });
});

describe("tampered real documents", () => {
  it("01 with the last signature byte 0xd4 → 0xd5 (its source's bad-signature file) fails SIGNATURE", () => {
    const last = VECTOR_01.raw.length - 1;
    expect(VECTOR_01.raw[last]).toBe(0xd4);
    const result = verify01();
    expect(result.valid).toBe(true);
    const bad = verifyAttestation(withByte(VECTOR_01.raw, last, 0xd5), {
      at: VECTOR_01.verifyAtMs,
      ...VECTOR_01_AGE_ALLOWANCE,
      pcrSets: [setOf(VECTOR_01)],
    });
    expect(bad.valid).toBe(false);
    expect(bad.failure).toBe(VerificationFailure.SIGNATURE);
    expect(bad.trustRoot).toBe(TrustRoot.AWS_NITRO_G1); // the chain itself was fine
  });

  it("01 with one byte of user_data changed fails SIGNATURE", () => {
    const userData = hexToBytes(VECTOR_01.expected.user_data?.hex ?? "");
    const offset = indexOf(VECTOR_01.raw, userData);
    expect(offset).toBeGreaterThan(0);
    const tampered = withByte(VECTOR_01.raw, offset, (VECTOR_01.raw[offset] ?? 0) ^ 0x01);
    const result = verify01();
    expect(result.valid).toBe(true);
    expect(
      verifyAttestation(tampered, {
        at: VECTOR_01.verifyAtMs,
        ...VECTOR_01_AGE_ALLOWANCE,
        pcrSets: [setOf(VECTOR_01)],
      }).failure,
    ).toBe(VerificationFailure.SIGNATURE);
  });
});

describe("debug mode", () => {
  it("refuses the debug document unless allowDebug", () => {
    const result = verify03({ allowDebug: false });
    expect(result.valid).toBe(false);
    expect(result.failure).toBe(VerificationFailure.DEBUG_MODE);
    expect(result.trustRoot).toBe(TrustRoot.AWS_NITRO_G1);
    expect(verify03({ allowDebug: undefined }).failure).toBe(VerificationFailure.DEBUG_MODE);
  });

  it("does not call a measured enclave debug", () => {
    expect(verify01({ allowDebug: false }).valid).toBe(true);
  });
});

describe("expected PCRs", () => {
  it("match when every index a set lists is equal; unlisted indexes are not checked", () => {
    const result = verify01({ pcrSets: [setOf(VECTOR_01, "with-pcr4", [0, 1, 2, 4])] });
    expect(result.matchedPcrSetId).toBe("with-pcr4");
  });

  it("report the first matching set among several", () => {
    const other = create(PcrSetSchema, {
      id: "other-build",
      pcrs: { 0: new Uint8Array(48).fill(1), 1: new Uint8Array(48), 2: new Uint8Array(48) },
    });
    const result = verify01({ pcrSets: [other, setOf(VECTOR_01, "this-build")] });
    expect(result.valid).toBe(true);
    expect(result.matchedPcrSetId).toBe("this-build");
  });

  it("mismatch when one listed PCR differs", () => {
    const set = setOf(VECTOR_01);
    const pcr0 = (set.pcrs[0] as Uint8Array).slice();
    pcr0[47] = (pcr0[47] ?? 0) ^ 0xff;
    set.pcrs[0] = pcr0;
    const result = verify01({ pcrSets: [set] });
    expect(result.failure).toBe(VerificationFailure.PCR_MISMATCH);
    expect(result.matchedPcrSetId).toBe("");
  });

  it("mismatch when a listed PCR is one the document does not carry", () => {
    const set = setOf(VECTOR_01);
    set.pcrs[20] = new Uint8Array(48);
    expect(verify01({ pcrSets: [set] }).failure).toBe(VerificationFailure.PCR_MISMATCH);
  });

  it("mismatch when the matching set is not valid at the verification time", () => {
    const notYet = setOf(VECTOR_01);
    notYet.validFromMs = BigInt(VECTOR_01.verifyAtMs + 1);
    const retired = setOf(VECTOR_01);
    retired.validUntilMs = BigInt(VECTOR_01.verifyAtMs - 1);
    expect(verify01({ pcrSets: [notYet] }).failure).toBe(VerificationFailure.PCR_MISMATCH);
    expect(verify01({ pcrSets: [retired] }).failure).toBe(VerificationFailure.PCR_MISMATCH);
    const window = setOf(VECTOR_01);
    window.validFromMs = BigInt(VECTOR_01.verifyAtMs - 1);
    window.validUntilMs = BigInt(VECTOR_01.verifyAtMs + 1);
    expect(verify01({ pcrSets: [window] }).valid).toBe(true);
  });

  it("mismatch against an empty list (every build withdrawn)", () => {
    expect(verify01({ pcrSets: [] }).failure).toBe(VerificationFailure.PCR_MISMATCH);
  });

  it("fail PCR_LIST_INVALID without a list, with an unusable list, or with an expired one", () => {
    expect(verify01({ pcrSets: undefined }).failure).toBe(VerificationFailure.PCR_LIST_INVALID);
    const pinsNothing = create(PcrSetSchema, { id: "empty", pcrs: {} });
    expect(verify01({ pcrSets: [pinsNothing] }).failure).toBe(VerificationFailure.PCR_LIST_INVALID);
    const noPcr2 = setOf(VECTOR_01, "no-pcr2", [0, 1]);
    expect(verify01({ pcrSets: [noPcr2] }).failure).toBe(VerificationFailure.PCR_LIST_INVALID);
    const expired = {
      sequence: 3n,
      issuedAtMs: 0,
      expiresAtMs: VECTOR_01.verifyAtMs - 1,
      sets: [setOf(VECTOR_01)],
      listBytes: new Uint8Array(),
    };
    expect(verify01({ pcrSets: expired }).failure).toBe(VerificationFailure.PCR_LIST_INVALID);
    expect(verify01({ pcrSets: { ...expired, expiresAtMs: undefined } }).valid).toBe(true);
  });
});

describe("nonce, user_data and public_key", () => {
  const nonce = hexToBytes(VECTOR_01.expected.nonce?.hex ?? "");

  it("nonce: equal passes; different, shorter or longer fails NONCE_MISMATCH", () => {
    expect(verify01({ expectedNonce: nonce }).valid).toBe(true);
    const other = nonce.slice();
    other[0] = (other[0] ?? 0) ^ 1;
    for (const expectedNonce of [other, nonce.subarray(0, 31), Uint8Array.of(...nonce, 0)]) {
      const result = verify01({ expectedNonce });
      expect(result.failure).toBe(VerificationFailure.NONCE_MISMATCH);
      expect(result.document).toBeDefined();
    }
  });

  it("user_data: a different one fails USER_DATA_MISMATCH", () => {
    expect(verify01({ expectedUserData: new Uint8Array(32) }).failure).toBe(
      VerificationFailure.USER_DATA_MISMATCH,
    );
  });

  it("public_key: null in the document fails PUBLIC_KEY_MISSING when one is required", () => {
    expect(verify01({ requirePublicKey: true }).failure).toBe(
      VerificationFailure.PUBLIC_KEY_MISSING,
    );
    expect(verify03({ requirePublicKey: true }).valid).toBe(true);
  });
});

describe("document age", () => {
  it("01 is too old at its source's verification time under the default five minutes", () => {
    const result = verifyAttestation(VECTOR_01.raw, {
      at: VECTOR_01.verifyAtMs,
      pcrSets: [setOf(VECTOR_01)],
    });
    expect(result.failure).toBe(VerificationFailure.TOO_OLD);
    expect(result.detail).toContain("479304 ms old");
  });

  it("fails TOO_OLD one millisecond past maxAgeMs, and passes at it", () => {
    const age = VECTOR_01.verifyAtMs - VECTOR_01.expected.timestamp_ms;
    expect(verify01({ maxAgeMs: age }).valid).toBe(true);
    expect(verify01({ maxAgeMs: age - 1 }).failure).toBe(VerificationFailure.TOO_OLD);
  });

  it("fails FROM_FUTURE when dated further after the verification time than the clock skew", () => {
    // 2.5 s before the document's timestamp, 1.5 s after its leaf became valid.
    const at = VECTOR_03_DEBUG.expected.timestamp_ms - 2500;
    expect(verify03({ at, clockSkewMs: 1000 }).failure).toBe(VerificationFailure.FROM_FUTURE);
    expect(verify03({ at, clockSkewMs: 3000 }).valid).toBe(true);
  });
});

describe("the dev root options do not change how AWS documents verify", () => {
  it("an allowed dev root adds a root; the AWS root stays trusted", () => {
    const result = verify01({ devRootSha256: "ab".repeat(32), allowDevRoot: true });
    expect(result.valid).toBe(true);
    expect(result.trustRoot).toBe(TrustRoot.AWS_NITRO_G1);
  });
});

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(haystack).indexOf(Buffer.from(needle));
}

function p384PublicKey(certificateDer: Uint8Array): Uint8Array {
  const jwk = new X509Certificate(certificateDer).publicKey.export({ format: "jwk" });
  return Uint8Array.of(
    0x04,
    ...Buffer.from(jwk.x ?? "", "base64url"),
    ...Buffer.from(jwk.y ?? "", "base64url"),
  );
}
