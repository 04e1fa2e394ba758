/**
 * Documents signed for real under a dev root, with content the NSM never writes: the checks
 * after the format checks see genuinely signed input, so each failure is the check's own.
 */
import { decode, encode } from "cbor2";
import { beforeAll, describe, expect, it } from "vitest";
import { issueDevChain } from "../../../enclave/nsm/dev-chain.js";
import { generateP384KeyPair, issueCertificate } from "../../../enclave/nsm/x509-issuer.js";
import { TrustRoot, VerificationFailure } from "../../../gen/vettid/attestation/v1/document_pb.js";
import { type VerifyAttestationOptions, verifyAttestation } from "./index.js";
import {
  createTestIssuer,
  encodeMap,
  payloadFor,
  payloadMap,
  signDocument,
  type TestIssuer,
  testPcrs,
} from "./testing/documents.js";

const T0 = Date.parse("2026-03-01T08:00:00Z");

let issuer: TestIssuer;
let options: VerifyAttestationOptions;
beforeAll(async () => {
  issuer = await createTestIssuer(T0);
  options = { at: T0, devRootSha256: issuer.rootSha256, allowDevRoot: true, allowAnyPcrs: true };
});

function verify(document: Uint8Array, extra: VerifyAttestationOptions = {}) {
  return verifyAttestation(document, { ...options, ...extra });
}

/** `bytes` with the first occurrence of `from` replaced by `to`. */
function splice(bytes: Uint8Array, from: Uint8Array, to: Uint8Array): Uint8Array {
  const at = Buffer.from(bytes).indexOf(Buffer.from(from));
  if (at < 0) throw new Error("pattern not found");
  return Uint8Array.of(...bytes.subarray(0, at), ...to, ...bytes.subarray(at + from.length));
}

describe("signatures over the original bytes", () => {
  it("a well-formed signed document verifies (the baseline for this file)", async () => {
    const result = verify(await signDocument(payloadFor(issuer), issuer.chain.signingKey));
    expect(result.valid).toBe(true);
    expect(result.trustRoot).toBe(TrustRoot.DEV_NSM);
  });

  it("verifies a payload in non-preferred CBOR, which re-encoding would change", async () => {
    const canonical = payloadFor(issuer);
    const key = new TextEncoder().encode("module_id");
    // "module_id" with a two-byte length header (0x78 0x09) instead of one (0x69).
    const payload = splice(
      canonical,
      Uint8Array.of(0x69, ...key),
      Uint8Array.of(0x78, 0x09, ...key),
    );
    expect(Buffer.from(encode(decode(payload))).equals(Buffer.from(payload))).toBe(false);
    const result = verify(await signDocument(payload, issuer.chain.signingKey));
    expect(result.valid).toBe(true);
    expect(result.document?.moduleId).toBe("i-00000000000000000-enc0000000000000001");
  });

  it("verifies a protected header in non-preferred CBOR (alg -35 in two bytes)", async () => {
    const protectedHeader = Uint8Array.of(0xa1, 0x01, 0x39, 0x00, 0x22);
    const document = await signDocument(payloadFor(issuer), issuer.chain.signingKey, {
      protectedHeader,
    });
    expect(verify(document).valid).toBe(true);
  });

  it("fails SIGNATURE when another leaf's key signed the document", async () => {
    const other = await issueDevChain(issuer.root, { nowMs: T0, moduleId: "other" });
    const result = verify(await signDocument(payloadFor(issuer), other.signingKey));
    expect(result.failure).toBe(VerificationFailure.SIGNATURE);
    expect(result.trustRoot).toBe(TrustRoot.DEV_NSM);
  });

  it("fails UNSUPPORTED_ALGORITHM for any alg but ES384, signed or not", async () => {
    for (const protectedHeader of [
      Uint8Array.of(0xa1, 0x01, 0x26), // ES256 (-7)
      Uint8Array.of(0xa1, 0x01, 0x38, 0x23), // ES512 (-36)
      Uint8Array.of(0xa1, 0x01, 0x65, 0x45, 0x53, 0x33, 0x38, 0x34), // "ES384" as text
      Uint8Array.of(0xa1, 0x04, 0x41, 0x00), // a kid, no alg
      new Uint8Array(0), // empty protected header
    ]) {
      const document = await signDocument(payloadFor(issuer), issuer.chain.signingKey, {
        protectedHeader,
      });
      expect(verify(document).failure).toBe(VerificationFailure.UNSUPPORTED_ALGORITHM);
    }
  });
});

describe("certificate chains", () => {
  async function withChain(
    certificate: Uint8Array,
    cabundle: Uint8Array[],
    key = issuer.chain.signingKey,
  ) {
    const map = payloadMap(payloadFor(issuer));
    map.set("certificate", certificate);
    map.set("cabundle", cabundle);
    return signDocument(encodeMap(map), key);
  }

  it("fails UNTRUSTED_ROOT when cabundle is leaf-issuer first (reversed)", async () => {
    const reversed = [...issuer.chain.cabundle].reverse();
    const result = verify(await withChain(issuer.chain.certificate, reversed));
    expect(result.failure).toBe(VerificationFailure.UNTRUSTED_ROOT);
  });

  it("fails CHAIN when an intermediate is missing", async () => {
    const [root, , instance] = issuer.chain.cabundle as [Uint8Array, Uint8Array, Uint8Array];
    const result = verify(await withChain(issuer.chain.certificate, [root, instance]));
    expect(result.failure).toBe(VerificationFailure.CHAIN);
    expect(result.detail).toContain("not issued by");
  });

  it("fails CHAIN when the leaf comes from another chain under the same root", async () => {
    const other = await issueDevChain(issuer.root, { nowMs: T0, moduleId: "other" });
    const result = verify(
      await withChain(other.certificate, [...issuer.chain.cabundle], other.signingKey),
    );
    expect(result.failure).toBe(VerificationFailure.CHAIN);
  });

  it("fails CHAIN when the leaf is a CA", async () => {
    const [root, regional, instance] = issuer.chain.cabundle as [
      Uint8Array,
      Uint8Array,
      Uint8Array,
    ];
    const result = verify(await withChain(instance, [root, regional]));
    expect(result.failure).toBe(VerificationFailure.CHAIN);
    expect(result.detail).toContain("is a CA");
  });

  it("fails CHAIN when a CA's path length constraint is exceeded", async () => {
    const name = (commonName: string) => ({ commonName });
    const notBefore = new Date(T0 - 60_000);
    const notAfter = new Date(T0 + 3600_000);
    const caKeys = await generateP384KeyPair(false);
    const ca = await issueCertificate({
      subject: name("CA with path length 0"),
      publicKey: caKeys.publicKey,
      issuerCertificate: issuer.root.certificate,
      signingKey: issuer.root.privateKey,
      notBefore,
      notAfter,
      ca: { pathLength: 0 },
    });
    const subKeys = await generateP384KeyPair(false);
    const sub = await issueCertificate({
      subject: name("CA below it"),
      publicKey: subKeys.publicKey,
      issuerCertificate: ca,
      signingKey: caKeys.privateKey,
      notBefore,
      notAfter,
      ca: {},
    });
    const leafKeys = await generateP384KeyPair(false);
    const leaf = await issueCertificate({
      subject: name("leaf"),
      publicKey: leafKeys.publicKey,
      issuerCertificate: sub,
      signingKey: subKeys.privateKey,
      notBefore,
      notAfter,
      ca: false,
    });
    const result = verify(
      await withChain(leaf, [issuer.root.certificate, ca, sub], leafKeys.privateKey),
    );
    expect(result.failure).toBe(VerificationFailure.CHAIN);
    expect(result.detail).toContain("allows 0 CAs below it");
  });

  it("fails MALFORMED_CERTIFICATE for a certificate with bytes after it", async () => {
    const padded = Uint8Array.of(...issuer.chain.certificate, 0x00);
    const result = verify(await withChain(padded, [...issuer.chain.cabundle]));
    expect(result.failure).toBe(VerificationFailure.MALFORMED_CERTIFICATE);
  });
});

describe("format checks come before the signature", () => {
  it("a signed 1025-byte nonce fails FIELD_TOO_LARGE; 1024 bytes verifies", async () => {
    const sign = (nonce: Uint8Array) =>
      signDocument(payloadFor(issuer, { nonce }), issuer.chain.signingKey);
    expect(verify(await sign(new Uint8Array(1024))).valid).toBe(true);
    expect(verify(await sign(new Uint8Array(1025))).failure).toBe(
      VerificationFailure.FIELD_TOO_LARGE,
    );
  });

  it("signed 32-byte PCRs under digest SHA384 fail PCR_SIZE", async () => {
    const map = payloadMap(payloadFor(issuer));
    map.set(
      "pcrs",
      new Map([...testPcrs()].map(([index, value]) => [index, value.subarray(0, 32)])),
    );
    const result = verify(await signDocument(encodeMap(map), issuer.chain.signingKey));
    expect(result.failure).toBe(VerificationFailure.PCR_SIZE);
  });
});
