/**
 * The corpus of mutated documents (`testing/mutations.ts`), generated from four valid bases: the
 * two real AWS documents, a document from the dev NSM (`enclave/nsm`), and one signed for the
 * tests, whose mutations are signed again so that they reach the checks after the signature.
 * Every mutation must be refused with the reason the corpus states, and none may throw.
 */
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { createDevRoot, devRootCertificate } from "../../../enclave/nsm/dev-root.js";
import { createDevNsm } from "../../../enclave/nsm/index.js";
import { VerificationFailure } from "../../../gen/vettid/attestation/v1/document_pb.js";
import { type PcrSet, PcrSetSchema } from "../../../gen/vettid/attestation/v1/pcr_pb.js";
import { type AttestationVerification, verifyAttestation } from "./index.js";
import type { VerifyAttestationOptions } from "./options.js";
import { createTestIssuer, payloadFor, signDocument, testPcrs } from "./testing/documents.js";
import {
  type BaseDocument,
  baseFacts,
  buildSigned,
  corpusFor,
  coseParts,
  expectedFailure,
  type Mutation,
  type Outcome,
} from "./testing/mutations.js";
import { AWS_ROOT_DER, expectedPcrs, VECTOR_01, VECTOR_03_DEBUG } from "./testing/vectors.js";

const T0 = Date.parse("2026-06-01T12:00:00Z");

/** An accepted set pinning PCR0–2 as `pcrs` has them. */
function setOf(pcrs: Record<number, Uint8Array>, id: string): PcrSet {
  const pinned: Record<number, Uint8Array> = {};
  for (const index of [0, 1, 2]) {
    const value = pcrs[index];
    if (value === undefined) throw new Error(`base has no PCR${index}`);
    pinned[index] = value;
  }
  return create(PcrSetSchema, { id, pcrs: pinned });
}

function hexBytes(hex: string | null | undefined): Uint8Array {
  if (!hex) throw new Error("expected.json records no hex for this field");
  return new Uint8Array(Buffer.from(hex, "hex"));
}

/** Another dev root, named as the dev NSM names its roots but pinned by no one. */
const otherDevRoot = (await devRootCertificate(await createDevRoot(T0))).der;

async function bases(): Promise<BaseDocument[]> {
  const common = { otherDevRoot, awsRoot: AWS_ROOT_DER };
  const v01 = VECTOR_01.expected;
  const real01: BaseDocument = {
    ...common,
    name: "real AWS document 01",
    raw: VECTOR_01.raw,
    options: {
      at: VECTOR_01.verifyAtMs,
      maxAgeMs: 10 * 60_000, // its source verifies it 7 min 59 s after it was made
      pcrSets: [setOf(expectedPcrs(VECTOR_01), "real-01")],
      expectedNonce: hexBytes(v01.nonce?.hex),
      expectedUserData: hexBytes(v01.user_data?.hex),
    },
    allowDebug: false,
    requirePublicKey: false,
    devAllowed: false,
  };
  const ones = new Uint8Array(1024).fill(1); // expected.json: every optional field is 1024 × 0x01
  const real03: BaseDocument = {
    ...common,
    name: "real AWS debug document 03",
    raw: VECTOR_03_DEBUG.raw,
    options: {
      at: VECTOR_03_DEBUG.verifyAtMs,
      allowDebug: true,
      pcrSets: [setOf(expectedPcrs(VECTOR_03_DEBUG), "real-03")],
      expectedNonce: ones,
      expectedUserData: ones,
      requirePublicKey: true,
    },
    allowDebug: true,
    requirePublicKey: true,
    devAllowed: false,
  };

  const nsm = createDevNsm({ now: () => T0 });
  const nonce = new Uint8Array(32).fill(0xcc);
  const userData = new Uint8Array(48).fill(0xbb);
  const { pcrs } = await nsm.describePcrs();
  const devNsm: BaseDocument = {
    ...common,
    name: "dev NSM document",
    raw: await nsm.attest({ publicKey: new Uint8Array(32).fill(0xaa), userData, nonce }),
    options: {
      at: T0,
      devRootSha256: (await nsm.rootCertificate()).fingerprintSha256,
      allowDevRoot: true,
      pcrSets: [setOf(Object.fromEntries(pcrs.map((p) => [p.index, p.value])), "dev")],
      expectedNonce: nonce,
      expectedUserData: userData,
      requirePublicKey: true,
    },
    allowDebug: false,
    requirePublicKey: true,
    devAllowed: true,
  };

  const issuer = await createTestIssuer(T0);
  const resignedRaw = await signDocument(
    payloadFor(issuer, { nonce, userData, publicKey: new Uint8Array(32).fill(0xaa) }),
    issuer.chain.signingKey,
  );
  const resigned: BaseDocument = {
    ...common,
    name: "test-signed document (mutations signed again)",
    raw: resignedRaw,
    options: {
      at: T0,
      devRootSha256: issuer.rootSha256,
      allowDevRoot: true,
      pcrSets: [setOf(Object.fromEntries(testPcrs()), "test")],
      expectedNonce: nonce,
      expectedUserData: userData,
      requirePublicKey: true,
    },
    resign: (protectedHeader, payload) =>
      signDocument(payload, issuer.chain.signingKey, { protectedHeader }),
    allowDebug: false,
    requirePublicKey: true,
    devAllowed: true,
  };
  return [real01, real03, devNsm, resigned];
}

const BASES = await bases();

/** Verifies without letting an exception escape: a throw is reported as the test's failure. */
function verifyNoThrow(bytes: Uint8Array, options: VerifyAttestationOptions) {
  let result: AttestationVerification | undefined;
  expect(() => {
    result = verifyAttestation(bytes, options);
  }).not.toThrow();
  if (result === undefined) throw new Error("no result");
  return result;
}

function outcomeOf(result: AttestationVerification): Outcome {
  if (result.valid) return "valid";
  expect(result.failure).not.toBe(VerificationFailure.UNSPECIFIED);
  expect(result.detail).not.toBe("");
  return result.failure;
}

function named(outcome: Outcome): string {
  return outcome === "valid" ? "valid" : VerificationFailure[outcome];
}

async function run(base: BaseDocument, mutation: Mutation): Promise<[Outcome, Outcome]> {
  switch (mutation.kind) {
    case "signed": {
      const { bytes, signedBytesChanged } = await buildSigned(base, mutation);
      const expected = expectedFailure(
        mutation.expect(base),
        signedBytesChanged,
        base.resign !== undefined,
      );
      return [outcomeOf(verifyNoThrow(bytes, base.options)), expected];
    }
    case "bytes": {
      const bytes = mutation.make(coseParts(base.raw), base.raw);
      return [outcomeOf(verifyNoThrow(bytes, base.options)), mutation.expect];
    }
    case "options": {
      const options = { ...base.options, ...mutation.options(base, baseFacts(base.raw)) };
      return [outcomeOf(verifyNoThrow(base.raw, options)), mutation.expect(base)];
    }
  }
}

describe.each(BASES.map((base) => [base.name, base] as const))("mutations of the %s", (_, base) => {
  it("the base itself verifies", () => {
    const result = verifyAttestation(base.raw, base.options);
    expect(result.detail).toBe("");
    expect(result.valid).toBe(true);
  });

  const corpus = corpusFor(base);
  it("the corpus is large and names each mutation once", () => {
    expect(corpus.length).toBeGreaterThan(250);
    expect(new Set(corpus.map((m) => m.name)).size).toBe(corpus.length);
  });

  it.each(corpus.map((mutation) => [mutation.name, mutation] as const))(
    "%s",
    async (_name, mutation) => {
      const [actual, expected] = await run(base, mutation);
      expect(named(actual)).toBe(named(expected));
    },
  );

  it("truncated at every offset: MALFORMED_CBOR, never a throw", () => {
    for (let length = 0; length < base.raw.length; length++) {
      const result = verifyNoThrow(base.raw.subarray(0, length), base.options);
      if (result.failure !== VerificationFailure.MALFORMED_CBOR) {
        throw new Error(
          `truncated to ${length} bytes: ${VerificationFailure[result.failure]} (${result.detail})`,
        );
      }
    }
  });

  it("every byte of the envelope and headers (the first 24) given each other CBOR major type: refused, never a throw", () => {
    for (let offset = 0; offset < 24; offset++) {
      for (const major of [0, 1, 2, 3, 4, 5, 6, 7]) {
        const copy = base.raw.slice();
        copy[offset] = (major << 5) | ((copy[offset] ?? 0) & 0x1f);
        if (copy[offset] === base.raw[offset]) continue;
        const result = verifyNoThrow(copy, base.options);
        expect(result.valid, `offset ${offset} major ${major}`).toBe(false);
      }
    }
  });
});
