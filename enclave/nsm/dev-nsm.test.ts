import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { sha256, sha384 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { measureCodeBundle } from "./code-bundle.js";
import { MAX_ATTESTATION_FIELD_BYTES } from "./constants.js";
import { DEFAULT_LEAF_VALIDITY_MS } from "./dev-chain.js";
import { createDevNsm, type DevNsmOptions } from "./dev-nsm.js";
import { defaultDevPcrInputs } from "./dev-pcrs.js";
import { NsmError } from "./nsm-error.js";
import {
  chainProblem,
  coseSignatureVerifies,
  type InspectedDocument,
  inspectDocument,
  payloadShape,
} from "./testing/inspect-document.js";
import { AWS_NITRO_ROOT_G1_FINGERPRINT, VECTOR_01, VECTOR_03_DEBUG } from "./testing/vectors.js";

const T0 = Date.parse("2025-06-01T12:00:00Z");
const ZERO_PCR = bytesToHex(new Uint8Array(48));

function fixedClock(start = T0) {
  let time = start;
  return { now: () => time, advance: (ms: number) => (time += ms) };
}

function devNsm(options: DevNsmOptions = {}) {
  return createDevNsm({ now: fixedClock().now, ...options });
}

async function attested(options: DevNsmOptions = {}, request = {}) {
  const nsm = devNsm(options);
  const raw = await nsm.attest(request);
  return { nsm, raw, document: inspectDocument(raw), root: await nsm.rootCertificate() };
}

async function rejection(promise: Promise<unknown>): Promise<NsmError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(NsmError);
    return error as NsmError;
  }
  throw new Error("expected a rejection");
}

function hexPcrs(document: InspectedDocument): Record<number, string> {
  return Object.fromEntries([...document.pcrs].map(([index, value]) => [index, bytesToHex(value)]));
}

describe("the test helper, on the real AWS documents", () => {
  it("accepts each real document's chain at its verification time, pinned to the AWS root", () => {
    for (const vector of [VECTOR_01, VECTOR_03_DEBUG]) {
      const document = inspectDocument(vector.raw);
      expect(chainProblem(document, AWS_NITRO_ROOT_G1_FINGERPRINT, vector.verifyAtMs)).toBe(
        undefined,
      );
      expect(coseSignatureVerifies(document)).toBe(true);
    }
  });

  it("rejects a real chain at today's date (expired) and under another pinned root", () => {
    const document = inspectDocument(VECTOR_01.raw);
    expect(chainProblem(document, AWS_NITRO_ROOT_G1_FINGERPRINT, Date.now())).toMatch(/expired/);
    expect(chainProblem(document, "00".repeat(32), VECTOR_01.verifyAtMs)).toMatch(/not pinned/);
  });
});

describe("dev NSM attestation documents", () => {
  it("have the real AWS document's structure: keys, order, types and sizes", async () => {
    const { raw, document } = await attested(
      {},
      { userData: new Uint8Array(32).fill(7), nonce: new Uint8Array(32).fill(9) },
    );
    const real = inspectDocument(VECTOR_01.raw);

    expect(raw[0]).toBe(VECTOR_01.raw[0]); // 0x84: an untagged COSE_Sign1 array of four
    expect(document.tagged).toBe(false);
    expect(document.protectedHeader).toEqual(real.protectedHeader);
    expect(document.protectedMap).toEqual(new Map([[1, -35]]));
    expect(document.unprotected).toEqual(real.unprotected);
    expect(document.signature).toHaveLength(real.signature.length);
    expect(document.signature).toHaveLength(96);
    expect(payloadShape(document)).toEqual(payloadShape(real));
    expect(document.payloadBytes[0]).toBe(real.payloadBytes[0]); // a map of nine
    expect(document.digest).toBe("SHA384");
    expect([...document.pcrs.keys()]).toEqual([...real.pcrs.keys()]);
    expect(document.moduleId).toMatch(/^i-0{17}-enc[0-9a-f]{16}$/);
    expect(real.moduleId).toMatch(/^i-[0-9a-f]{17}-enc[0-9a-f]{16}$/);
  });

  it("carry a P-384 leaf signed with ecdsa-with-SHA384 and a DER cabundle, root first", async () => {
    const { document, root } = await attested();
    const real = inspectDocument(VECTOR_01.raw);
    for (const doc of [document, real]) {
      const chain = [...doc.cabundle, doc.certificate].map((der) => new X509Certificate(der));
      for (const certificate of chain) {
        expect(certificate.publicKey.asymmetricKeyDetails?.namedCurve).toBe("secp384r1");
      }
      expect(chain[0]?.subject).toBe(chain[0]?.issuer);
      expect(chain.at(-1)?.ca).toBe(false);
      expect(chain.slice(0, -1).every((certificate) => certificate.ca)).toBe(true);
    }
    expect(bytesToHex(sha256(document.cabundle[0] as Uint8Array))).toBe(root.fingerprintSha256);
    expect(new X509Certificate(document.certificate).subject).toContain(document.moduleId);
  });

  it("verify: ES384 over the Sig_structure of the original bytes, under the leaf's key", async () => {
    const { raw, document } = await attested({}, { nonce: Uint8Array.of(1, 2, 3) });
    expect(coseSignatureVerifies(document)).toBe(true);

    const payloadAt = raw.length - 96 - 2 - document.payloadBytes.length; // bstr header of 96 is 2 bytes
    const tamperedPayload = raw.slice();
    tamperedPayload[payloadAt + 20] = (tamperedPayload[payloadAt + 20] ?? 0) ^ 1;
    expect(coseSignatureVerifies(inspectDocument(tamperedPayload))).toBe(false);

    const tamperedSignature = raw.slice();
    tamperedSignature[raw.length - 1] = (tamperedSignature[raw.length - 1] ?? 0) ^ 1;
    expect(coseSignatureVerifies(inspectDocument(tamperedSignature))).toBe(false);
  });

  it("chain to the dev root (and not to the AWS root), valid at the document's time only", async () => {
    const { document, root } = await attested();
    const at = document.timestampMs;
    expect(at).toBe(T0);
    expect(chainProblem(document, root.fingerprintSha256, at)).toBe(undefined);
    expect(chainProblem(document, AWS_NITRO_ROOT_G1_FINGERPRINT, at)).toMatch(/not pinned/);
    expect(
      chainProblem(document, root.fingerprintSha256, at + DEFAULT_LEAF_VALIDITY_MS + 1000),
    ).toMatch(/certificate 3 has expired/);
    expect(chainProblem(document, root.fingerprintSha256, at - 3600_000)).toMatch(/not yet valid/);
    expect(document.cabundle).toHaveLength(3);
  });

  it("round-trip public_key, user_data and nonce, up to 1024 bytes each, as given", async () => {
    const publicKey = crypto.getRandomValues(new Uint8Array(32));
    const userData = new Uint8Array(MAX_ATTESTATION_FIELD_BYTES).fill(1);
    const nonce = crypto.getRandomValues(new Uint8Array(MAX_ATTESTATION_FIELD_BYTES));
    const { document } = await attested({}, { publicKey, userData, nonce });
    expect(document.publicKey).toEqual(publicKey);
    expect(document.userData).toEqual(userData);
    expect(document.nonce).toEqual(nonce);
    expect(payloadShape(document)).toEqual(payloadShape(inspectDocument(VECTOR_03_DEBUG.raw)));
    expect(coseSignatureVerifies(document)).toBe(true);
  });

  it("write absent fields as CBOR null, as AWS does", async () => {
    const { document } = await attested();
    expect(document.publicKey).toBe(null);
    expect(document.userData).toBe(null);
    expect(document.nonce).toBe(null);
    expect(inspectDocument(VECTOR_01.raw).publicKey).toBe(null);
  });

  it("refuse a field over 1024 bytes, naming it", async () => {
    const nsm = devNsm();
    for (const field of ["publicKey", "userData", "nonce"] as const) {
      const error = await rejection(
        nsm.attest({ [field]: new Uint8Array(MAX_ATTESTATION_FIELD_BYTES + 1) }),
      );
      expect(error.code).toBe("invalid_argument");
      expect(error.message).toContain(field);
      expect(error.message).toContain("1025");
    }
  });

  it("are tagged with 18 when asked, and still verify", async () => {
    const { raw, document, root } = await attested({ tagged: true });
    expect(raw[0]).toBe(0xd2);
    expect(document.tagged).toBe(true);
    expect(coseSignatureVerifies(document)).toBe(true);
    expect(chainProblem(document, root.fingerprintSha256, document.timestampMs)).toBe(undefined);
  });

  it("reuse a leaf while it has two hours left, then issue a new chain", async () => {
    const clock = fixedClock();
    const nsm = createDevNsm({ now: clock.now });
    const root = await nsm.rootCertificate();
    const first = inspectDocument(await nsm.attest());
    clock.advance(30 * 60_000);
    const second = inspectDocument(await nsm.attest());
    expect(second.certificate).toEqual(first.certificate);
    expect(second.timestampMs).toBe(T0 + 30 * 60_000);
    clock.advance(31 * 60_000);
    const third = inspectDocument(await nsm.attest());
    expect(third.certificate).not.toEqual(first.certificate);
    expect(third.cabundle[0]).toEqual(first.cabundle[0]);
    expect(chainProblem(third, root.fingerprintSha256, third.timestampMs)).toBe(undefined);
  });

  it("share one new chain between concurrent requests", async () => {
    const nsm = devNsm();
    const documents = (await Promise.all([nsm.attest(), nsm.attest(), nsm.attest()])).map(
      inspectDocument,
    );
    expect(documents[1]?.certificate).toEqual(documents[0]?.certificate);
    expect(documents[2]?.certificate).toEqual(documents[0]?.certificate);
  });
});

describe("dev NSM PCRs", () => {
  it("measure the enclave code (PCR0), the runtime (PCR1) and the lock file (PCR2); 3–15 are zero", async () => {
    const { nsm, document } = await attested();
    const inputs = defaultDevPcrInputs();
    const pcrs = hexPcrs(document);
    expect(pcrs[0]).toBe(bytesToHex(await measureCodeBundle(inputs.codeDir)));
    expect(pcrs[1]).toBe(bytesToHex(sha384(new TextEncoder().encode(inputs.runtime))));
    expect(pcrs[2]).toBe(bytesToHex(sha384(await readFile(inputs.lockFile))));
    for (let index = 0; index < 3; index++) expect(pcrs[index]).not.toBe(ZERO_PCR);
    for (let index = 3; index < 16; index++) expect(pcrs[index]).toBe(ZERO_PCR);
    for (const value of document.pcrs.values()) expect(value).toHaveLength(48);

    const description = await nsm.describePcrs();
    expect(description.debug).toBe(false);
    expect(description.digest).toBe("SHA384");
    expect(description.pcrs.map((pcr) => pcr.index)).toEqual([...Array(16).keys()]);
    expect(description.pcrs.every((pcr) => pcr.locked)).toBe(true);
    expect(Object.fromEntries(description.pcrs.map((p) => [p.index, bytesToHex(p.value)]))).toEqual(
      pcrs,
    );
  });

  it("are all zero for PCR0–2 in debug mode, like a real debug enclave", async () => {
    const { nsm, document } = await attested({ debug: true });
    const real = inspectDocument(VECTOR_03_DEBUG.raw);
    for (const index of [0, 1, 2]) {
      expect(bytesToHex(document.pcrs.get(index) as Uint8Array)).toBe(ZERO_PCR);
      expect(bytesToHex(real.pcrs.get(index) as Uint8Array)).toBe(ZERO_PCR);
    }
    expect((await nsm.describePcrs()).debug).toBe(true);
    expect(coseSignatureVerifies(document)).toBe(true);
  });

  it("take overrides (for PCR-matching tests), which debug mode still zeroes for 0–2", async () => {
    const pcr3 = new Uint8Array(48).fill(3);
    const { document } = await attested({
      pcrOverrides: { 3: pcr3, 0: new Uint8Array(48).fill(1) },
    });
    expect(document.pcrs.get(3)).toEqual(pcr3);
    expect(document.pcrs.get(0)).toEqual(new Uint8Array(48).fill(1));
    const debug = await attested({ debug: true, pcrOverrides: { 0: new Uint8Array(48).fill(1) } });
    expect(bytesToHex(debug.document.pcrs.get(0) as Uint8Array)).toBe(ZERO_PCR);
  });

  it("follow the stated inputs: another runtime gives another PCR1 only", async () => {
    const a = await attested();
    const b = await attested({ pcrInputs: { runtime: "node/99.0.0 linux-x64" } });
    expect(hexPcrs(b.document)[1]).not.toBe(hexPcrs(a.document)[1]);
    expect(hexPcrs(b.document)[0]).toBe(hexPcrs(a.document)[0]);
    expect(hexPcrs(b.document)[2]).toBe(hexPcrs(a.document)[2]);
  });

  it("fail with state_invalid naming the lock file when it is missing", async () => {
    const nsm = devNsm({ pcrInputs: { lockFile: "/nonexistent/package-lock.json" } });
    const error = await rejection(nsm.attest());
    expect(error.code).toBe("state_invalid");
    expect(error.message).toContain("/nonexistent/package-lock.json");
  });
});

describe("dev NSM root", () => {
  it("is exported as PEM with the SHA-256 fingerprint clients pin", async () => {
    const nsm = devNsm();
    const root = await nsm.rootCertificate();
    const parsed = new X509Certificate(root.pem);
    expect(parsed.fingerprint256.replaceAll(":", "").toLowerCase()).toBe(root.fingerprintSha256);
    expect(new Uint8Array(parsed.raw)).toEqual(root.der);
    expect(parsed.subject).toContain("VettID dev NSM root");
    expect(parsed.ca).toBe(true);
    expect(await nsm.rootCertificate()).toEqual(root);
  });

  it("can be handed to another dev NSM, whose documents then chain to the same pin", async () => {
    const first = devNsm();
    const second = devNsm({ root: await first.exportRoot() });
    const pin = (await first.rootCertificate()).fingerprintSha256;
    expect((await second.rootCertificate()).fingerprintSha256).toBe(pin);
    const document = inspectDocument(await second.attest());
    expect(chainProblem(document, pin, document.timestampMs)).toBe(undefined);
  });

  it("differs between dev NSMs that are given nothing to share", async () => {
    const [a, b] = [devNsm(), devNsm()];
    expect((await a.rootCertificate()).fingerprintSha256).not.toBe(
      (await b.rootCertificate()).fingerprintSha256,
    );
  });
});

describe("dev NSM options", () => {
  it("are checked when the NSM is made, naming the option", () => {
    expect(() => createDevNsm({ sealingKey: new Uint8Array(16) })).toThrow(/sealingKey must be 32/);
    expect(() => createDevNsm({ leafValidityMs: 10 })).toThrow(/leafValidityMs/);
    expect(() => createDevNsm({ moduleId: "has space" })).toThrow(/moduleId/);
    expect(() => createDevNsm({ pcrOverrides: { 16: new Uint8Array(48) } })).toThrow(
      /PCR override index 16 is outside 0–15/,
    );
    expect(() => createDevNsm({ pcrOverrides: { 4: new Uint8Array(32) } })).toThrow(
      /PCR override 4 must be 48 bytes, got 32/,
    );
  });

  it("say which implementation this is", () => {
    expect(devNsm().kind).toBe("dev");
  });
});
