/**
 * Test-only: a corpus of mutated attestation documents, generated programmatically from a valid
 * base document (a real AWS document, one from the dev NSM, or one signed for the tests).
 *
 * Every mutation says which check must refuse it. Because a real document cannot be signed again,
 * the same mutation means different things in two contexts:
 * - **as issued** (the original signature kept): a change to the signed bytes that passes the
 *   format and chain checks must fail `SIGNATURE`;
 * - **re-signed** (the test issuer signs the mutated bytes for real): the same change reaches the
 *   check that looks at the changed value (nonce, PCRs, age, …).
 * So a mutation of the signed bytes states its expectation in three layers (format, chain,
 * semantic) and {@link expectedFailure} picks the one that applies, in the verifier's order.
 */
import { X509Certificate } from "node:crypto";
import { p384 } from "@noble/curves/nist.js";
import { equalBytes } from "@noble/curves/utils.js";
import { decode, encode, Tag } from "cbor2";
import { VerificationFailure } from "../../../../gen/vettid/attestation/v1/document_pb.js";
import type { VerifyAttestationOptions } from "../options.js";

const F = VerificationFailure;

/** A refusal the corpus expects, or "valid" where the change is one the verifier must accept. */
export type Outcome = VerificationFailure | "valid";

/** A base document the corpus mutates, and what makes it verify. */
export interface BaseDocument {
  readonly name: string;
  readonly raw: Uint8Array;
  /** Options under which `raw` verifies (nonce, user data, PCR sets all expected). */
  readonly options: VerifyAttestationOptions;
  /** Signs a protected header and payload for real, or undefined for documents as issued. */
  readonly resign?: (protectedHeader: Uint8Array, payload: Uint8Array) => Promise<Uint8Array>;
  /** Whether the base's options allow debug documents (PCR0–2 all zeros). */
  readonly allowDebug: boolean;
  /** Whether the base's options require a public key. */
  readonly requirePublicKey: boolean;
  /** Whether the base's options trust a dev root. */
  readonly devAllowed: boolean;
  /** A root certificate (DER) named as the dev NSM names its roots, but not this base's root. */
  readonly otherDevRoot: Uint8Array;
  /** The AWS Nitro root G1 certificate (DER). */
  readonly awsRoot: Uint8Array;
}

/** The parts of a COSE_Sign1, as decoded from the base. */
export interface CoseParts {
  readonly protectedHeader: Uint8Array;
  readonly unprotected: Map<unknown, unknown>;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
}

/** Expectation for a change to the signed bytes, by layer; the first that applies wins. */
export interface LayeredExpectation {
  /** A format check refuses it, whatever the signature (MALFORMED_*, MISSING_FIELD, sizes…). */
  readonly format?: VerificationFailure;
  /** The certificate chain check refuses it. */
  readonly chain?: VerificationFailure;
  /** What a verifier that got past the signature concludes. Default "valid". */
  readonly semantic?: Outcome;
}

/** One mutation of the corpus. */
export type Mutation =
  /** Changes the payload map and/or protected header; the signature is kept or redone. */
  | {
      readonly kind: "signed";
      readonly name: string;
      readonly mutate: (parts: {
        payload: Map<unknown, unknown>;
        protectedHeader: Map<unknown, unknown>;
      }) => void;
      readonly expect: (base: BaseDocument) => LayeredExpectation;
    }
  /** Builds new bytes from the base's parts; the outcome does not depend on signing. */
  | {
      readonly kind: "bytes";
      readonly name: string;
      readonly make: (parts: CoseParts, raw: Uint8Array) => Uint8Array;
      readonly expect: Outcome;
    }
  /** Verifies the base unchanged under other options. */
  | {
      readonly kind: "options";
      readonly name: string;
      readonly options: (base: BaseDocument, facts: BaseFacts) => VerifyAttestationOptions;
      readonly expect: (base: BaseDocument) => Outcome;
    };

/** Facts read from a base document, for mutations that depend on them. */
export interface BaseFacts {
  readonly leafNotBeforeMs: number;
  readonly leafNotAfterMs: number;
  readonly timestampMs: number;
  readonly nonce: Uint8Array | undefined;
  readonly userData: Uint8Array | undefined;
}

/** The base's COSE parts, decoded. */
export function coseParts(raw: Uint8Array): CoseParts {
  const [protectedHeader, unprotected, payload, signature] = decode(raw, {
    preferMap: true,
  }) as [Uint8Array, Map<unknown, unknown>, Uint8Array, Uint8Array];
  return { protectedHeader, unprotected, payload, signature };
}

/** The base's payload map, decoded afresh (so it can be changed). */
export function payloadMapOf(parts: CoseParts): Map<unknown, unknown> {
  return decode(parts.payload, { preferMap: true }) as Map<unknown, unknown>;
}

/** Facts about the base: its leaf's validity, timestamp, nonce and user data. */
export function baseFacts(raw: Uint8Array): BaseFacts {
  const map = payloadMapOf(coseParts(raw));
  const leaf = new X509Certificate(map.get("certificate") as Uint8Array);
  const bytesOrUndefined = (value: unknown) => (value instanceof Uint8Array ? value : undefined);
  return {
    leafNotBeforeMs: Date.parse(leaf.validFrom),
    leafNotAfterMs: Date.parse(leaf.validTo),
    timestampMs: map.get("timestamp") as number,
    nonce: bytesOrUndefined(map.get("nonce")),
    userData: bytesOrUndefined(map.get("user_data")),
  };
}

/**
 * The failure a signed-bytes mutation must produce: its format failure, else its chain failure,
 * else `SIGNATURE` when the signed bytes changed but were not signed again, else its semantic one.
 */
export function expectedFailure(
  expectation: LayeredExpectation,
  signedBytesChanged: boolean,
  resigned: boolean,
): Outcome {
  if (expectation.format !== undefined) return expectation.format;
  if (expectation.chain !== undefined) return expectation.chain;
  if (signedBytesChanged && !resigned) return F.SIGNATURE;
  return expectation.semantic ?? "valid";
}

/** Builds the document bytes of a signed-bytes mutation, signed again when the base can be. */
export async function buildSigned(
  base: BaseDocument,
  mutation: Extract<Mutation, { kind: "signed" }>,
): Promise<{ bytes: Uint8Array; signedBytesChanged: boolean }> {
  const parts = coseParts(base.raw);
  const payload = payloadMapOf(parts);
  const protectedHeader = decode(parts.protectedHeader, { preferMap: true }) as Map<
    unknown,
    unknown
  >;
  mutation.mutate({ payload, protectedHeader });
  const newPayload = encode(payload);
  const newProtected = encode(protectedHeader);
  const signedBytesChanged =
    !equalBytes(newPayload, parts.payload) || !equalBytes(newProtected, parts.protectedHeader);
  if (!signedBytesChanged) return { bytes: base.raw, signedBytesChanged };
  const bytes =
    base.resign === undefined
      ? encode([newProtected, parts.unprotected, newPayload, parts.signature])
      : await base.resign(newProtected, newPayload);
  return { bytes, signedBytesChanged };
}

// --- The corpus -------------------------------------------------------------------------------

const MANDATORY = ["module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle"] as const;
const OPTIONAL = ["public_key", "user_data", "nonce"] as const;

/** Values of every CBOR type, to put where a field of another type belongs. */
const TYPE_SAMPLES: readonly (readonly [string, unknown])[] = [
  ["text", "x"],
  ["empty text", ""],
  ["zero", 0],
  ["a positive integer", 7],
  ["a negative integer", -7],
  ["a float", 1.5],
  ["true", true],
  ["null", null],
  ["undefined (0xf7)", undefined],
  ["an empty array", []],
  ["an array of bytes", [Uint8Array.of(1, 2, 3)]],
  ["an empty map", new Map()],
  ["a map of one PCR", new Map([[0, new Uint8Array(48).fill(0xab)]])],
  ["3 bytes", Uint8Array.of(1, 2, 3)],
  ["empty bytes", new Uint8Array(0)],
  ["a bignum (2^64)", 2n ** 64n],
  ["tag 24 around bytes", new Tag(24, Uint8Array.of(0x40))],
  ["tag 64 (typed array) around bytes", new Tag(64, Uint8Array.of(1, 2, 3))],
];

/** What each field's mandatory-or-optional status means when it is missing or null. */
function optionalAbsent(field: (typeof OPTIONAL)[number], base: BaseDocument): Outcome {
  if (field === "nonce") return F.NONCE_MISMATCH;
  if (field === "user_data") return F.USER_DATA_MISMATCH;
  return base.requirePublicKey ? F.PUBLIC_KEY_MISSING : "valid";
}

/** An optional field set to other bytes than the base carries. */
function optionalChanged(field: (typeof OPTIONAL)[number]): Outcome {
  if (field === "nonce") return F.NONCE_MISMATCH;
  if (field === "user_data") return F.USER_DATA_MISMATCH;
  return "valid"; // public_key is not compared: the document is what says which key it is
}

/** The expectation for `sample` put in `field`. */
function typeExpectation(
  field: string,
  sampleName: string,
  sample: unknown,
  base: BaseDocument,
): LayeredExpectation {
  const missing = { format: F.MISSING_FIELD };
  switch (field) {
    case "module_id":
      return typeof sample === "string" && sample.length > 0 ? {} : missing;
    case "digest":
      return typeof sample === "string" ? { format: F.DIGEST } : missing;
    case "timestamp":
      return sample === 7 ? { semantic: F.TOO_OLD } : missing;
    case "pcrs":
      return sampleName === "a map of one PCR" ? { semantic: F.PCR_MISMATCH } : missing;
    case "certificate":
      return sample instanceof Uint8Array ? { chain: F.MALFORMED_CERTIFICATE } : missing;
    case "cabundle":
      return sampleName === "an array of bytes" ? { chain: F.MALFORMED_CERTIFICATE } : missing;
    default: {
      const optional = field as (typeof OPTIONAL)[number];
      if (sample === null) return { semantic: optionalAbsent(optional, base) };
      if (sample instanceof Uint8Array) return { semantic: optionalChanged(optional) };
      return missing;
    }
  }
}

function flipLast(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  copy[copy.length - 1] = (copy[copy.length - 1] ?? 0) ^ 0x01;
  return copy;
}

function flipFirst(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  copy[0] = (copy[0] ?? 0) ^ 0x80;
  return copy;
}

function pcrsOf(payload: Map<unknown, unknown>): Map<number, Uint8Array> {
  return payload.get("pcrs") as Map<number, Uint8Array>;
}

function cabundleOf(payload: Map<unknown, unknown>): Uint8Array[] {
  return payload.get("cabundle") as Uint8Array[];
}

function signed(
  name: string,
  mutate: Extract<Mutation, { kind: "signed" }>["mutate"],
  expect: LayeredExpectation | ((base: BaseDocument) => LayeredExpectation),
): Mutation {
  return {
    kind: "signed",
    name,
    mutate,
    expect: typeof expect === "function" ? expect : () => expect,
  };
}

/** Mutations of the payload's fields: removed, every wrong type, altered, truncated, resized. */
function fieldMutations(): Mutation[] {
  const mutations: Mutation[] = [];
  for (const field of MANDATORY) {
    mutations.push(
      signed(`${field} removed`, ({ payload }) => payload.delete(field), {
        format: F.MISSING_FIELD,
      }),
    );
  }
  for (const field of OPTIONAL) {
    mutations.push(
      signed(
        `${field} removed`,
        ({ payload }) => payload.delete(field),
        (base) => ({ semantic: optionalAbsent(field, base) }),
      ),
    );
  }
  for (const field of [...MANDATORY, ...OPTIONAL]) {
    for (const [sampleName, sample] of TYPE_SAMPLES) {
      mutations.push(
        signed(
          `${field} replaced by ${sampleName}`,
          ({ payload }) => payload.set(field, sample),
          (base) => typeExpectation(field, sampleName, sample, base),
        ),
      );
    }
  }

  // Altered values of the right type.
  mutations.push(
    signed("module_id altered", ({ payload }) => payload.set("module_id", "i-0123-enc9"), {}),
    signed(
      "module_id truncated by one character",
      ({ payload }) => {
        const id = payload.get("module_id") as string;
        payload.set("module_id", id.slice(0, -1));
      },
      {},
    ),
    signed("digest SHA256", ({ payload }) => payload.set("digest", "SHA256"), { format: F.DIGEST }),
    signed("digest truncated to SHA38", ({ payload }) => payload.set("digest", "SHA38"), {
      format: F.DIGEST,
    }),
    signed("digest in lower case", ({ payload }) => payload.set("digest", "sha384"), {
      format: F.DIGEST,
    }),
    signed(
      "timestamp a day earlier",
      ({ payload }) => payload.set("timestamp", (payload.get("timestamp") as number) - 86_400_000),
      { semantic: F.TOO_OLD },
    ),
    signed(
      "timestamp an hour later",
      ({ payload }) => payload.set("timestamp", (payload.get("timestamp") as number) + 3_600_000),
      { semantic: F.FROM_FUTURE },
    ),
    signed(
      "timestamp in seconds instead of ms",
      ({ payload }) =>
        payload.set("timestamp", Math.floor((payload.get("timestamp") as number) / 1000)),
      { semantic: F.TOO_OLD },
    ),
    signed(
      "timestamp as a float of the same value",
      ({ payload }) => payload.set("timestamp", (payload.get("timestamp") as number) + 0.5),
      { format: F.MISSING_FIELD },
    ),
  );

  // PCRs.
  mutations.push(
    signed(
      "PCR0 altered",
      ({ payload }) => pcrsOf(payload).set(0, flipLast(pcrsOf(payload).get(0) as Uint8Array)),
      { semantic: F.PCR_MISMATCH },
    ),
    signed(
      "PCR2 altered",
      ({ payload }) => pcrsOf(payload).set(2, flipFirst(pcrsOf(payload).get(2) as Uint8Array)),
      { semantic: F.PCR_MISMATCH },
    ),
    signed(
      "PCR4 (not pinned) altered",
      ({ payload }) => pcrsOf(payload).set(4, flipLast(pcrsOf(payload).get(4) as Uint8Array)),
      {},
    ),
    signed("PCR0 removed", ({ payload }) => pcrsOf(payload).delete(0), {
      semantic: F.PCR_MISMATCH,
    }),
    signed(
      "PCR0–2 set to zeros (debug mode)",
      ({ payload }) => {
        for (const index of [0, 1, 2]) pcrsOf(payload).set(index, new Uint8Array(48));
      },
      // The debug base already has them so: unchanged, it verifies.
      (base) => ({ semantic: base.allowDebug ? "valid" : F.DEBUG_MODE }),
    ),
    signed(
      "PCR1 truncated to 47 bytes",
      ({ payload }) =>
        pcrsOf(payload).set(1, (pcrsOf(payload).get(1) as Uint8Array).subarray(0, 47)),
      { format: F.PCR_SIZE },
    ),
    signed(
      "PCR3 extended to 49 bytes",
      ({ payload }) =>
        pcrsOf(payload).set(3, Uint8Array.of(...(pcrsOf(payload).get(3) as Uint8Array), 0)),
      { format: F.PCR_SIZE },
    ),
    signed("PCR0 emptied", ({ payload }) => pcrsOf(payload).set(0, new Uint8Array(0)), {
      format: F.PCR_SIZE,
    }),
    signed("PCR index 32 added", ({ payload }) => pcrsOf(payload).set(32, new Uint8Array(48)), {
      format: F.PCR_SIZE,
    }),
    signed("PCR index -1 added", ({ payload }) => pcrsOf(payload).set(-1, new Uint8Array(48)), {
      format: F.PCR_SIZE,
    }),
    signed(
      "PCR with a text key added",
      ({ payload }) => pcrsOf(payload).set("16" as unknown as number, new Uint8Array(48)),
      { format: F.MISSING_FIELD },
    ),
    signed(
      "PCRs in reverse order",
      ({ payload }) => payload.set("pcrs", new Map([...pcrsOf(payload)].reverse())),
      {},
    ),
  );

  // Certificates.
  mutations.push(
    signed(
      "certificate's last byte altered (its signature)",
      ({ payload }) =>
        payload.set("certificate", flipLast(payload.get("certificate") as Uint8Array)),
      { chain: F.CHAIN },
    ),
    signed(
      "certificate truncated by one byte",
      ({ payload }) =>
        payload.set("certificate", (payload.get("certificate") as Uint8Array).subarray(0, -1)),
      { chain: F.MALFORMED_CERTIFICATE },
    ),
    signed(
      "certificate truncated to half",
      ({ payload }) => {
        const der = payload.get("certificate") as Uint8Array;
        payload.set("certificate", der.subarray(0, der.length >> 1));
      },
      { chain: F.MALFORMED_CERTIFICATE },
    ),
    signed(
      "certificate replaced by its issuer (a CA as leaf)",
      ({ payload }) => {
        const bundle = cabundleOf(payload);
        payload.set("certificate", bundle[bundle.length - 1]);
        payload.set("cabundle", bundle.slice(0, -1));
      },
      { chain: F.CHAIN },
    ),
    signed(
      "cabundle root's last byte altered",
      ({ payload }) => {
        const bundle = cabundleOf(payload);
        bundle[0] = flipLast(bundle[0] as Uint8Array);
      },
      { chain: F.UNTRUSTED_ROOT },
    ),
    signed(
      "cabundle intermediate's last byte altered",
      ({ payload }) => {
        const bundle = cabundleOf(payload);
        bundle[1] = flipLast(bundle[1] as Uint8Array);
      },
      { chain: F.CHAIN },
    ),
    signed(
      "cabundle intermediate truncated",
      ({ payload }) => {
        const bundle = cabundleOf(payload);
        bundle[1] = (bundle[1] as Uint8Array).subarray(0, 100);
      },
      { chain: F.MALFORMED_CERTIFICATE },
    ),
    signed(
      "cabundle reversed (leaf's issuer first)",
      ({ payload }) => payload.set("cabundle", [...cabundleOf(payload)].reverse()),
      { chain: F.UNTRUSTED_ROOT },
    ),
    signed(
      "cabundle intermediates re-ordered",
      ({ payload }) => {
        const bundle = cabundleOf(payload);
        const [first, second] = [bundle[1], bundle[2]];
        bundle[1] = second as Uint8Array;
        bundle[2] = first as Uint8Array;
      },
      { chain: F.CHAIN },
    ),
    signed(
      "cabundle without its last intermediate",
      ({ payload }) => payload.set("cabundle", cabundleOf(payload).slice(0, -1)),
      { chain: F.CHAIN },
    ),
    signed(
      "cabundle without its root",
      ({ payload }) => payload.set("cabundle", cabundleOf(payload).slice(1)),
      { chain: F.UNTRUSTED_ROOT },
    ),
    signed(
      "cabundle with an entry repeated",
      ({ payload }) => {
        const bundle = cabundleOf(payload);
        payload.set("cabundle", [...bundle.slice(0, 2), ...bundle.slice(1)]);
      },
      { chain: F.CHAIN },
    ),
    signed(
      "cabundle of 9 entries",
      ({ payload }) => {
        const bundle = cabundleOf(payload);
        payload.set("cabundle", [...bundle, ...bundle, ...bundle].slice(0, 9));
      },
      { format: F.FIELD_TOO_LARGE },
    ),
  );

  // Optional fields: altered, truncated, resized.
  for (const field of OPTIONAL) {
    mutations.push(
      signed(
        `${field} altered (or set, when null)`,
        ({ payload }) => {
          const value = payload.get(field);
          payload.set(
            field,
            value instanceof Uint8Array ? flipLast(value) : new Uint8Array(32).fill(7),
          );
        },
        { semantic: optionalChanged(field) },
      ),
      signed(
        `${field} truncated by one byte (or set, when null)`,
        ({ payload }) => {
          const value = payload.get(field);
          payload.set(
            field,
            value instanceof Uint8Array ? value.subarray(0, -1) : new Uint8Array(31),
          );
        },
        { semantic: optionalChanged(field) },
      ),
      signed(`${field} emptied`, ({ payload }) => payload.set(field, new Uint8Array(0)), {
        semantic: optionalChanged(field),
      }),
      signed(
        `${field} null`,
        ({ payload }) => payload.set(field, null),
        (base) => ({ semantic: optionalAbsent(field, base) }),
      ),
      signed(
        `${field} of 1025 bytes`,
        ({ payload }) => payload.set(field, new Uint8Array(1025).fill(1)),
        { format: F.FIELD_TOO_LARGE },
      ),
      signed(`${field} of 64 KiB`, ({ payload }) => payload.set(field, new Uint8Array(65_536)), {
        format: F.FIELD_TOO_LARGE,
      }),
    );
  }

  // Whole-payload changes.
  mutations.push(
    signed(
      "payload keys in reverse order",
      ({ payload }) => {
        const entries = [...payload].reverse();
        payload.clear();
        for (const [key, value] of entries) payload.set(key, value);
      },
      {},
    ),
    signed("an unknown field added", ({ payload }) => payload.set("future_field", 1), {}),
    signed("an integer-keyed field added", ({ payload }) => payload.set(1, "x"), {}),
  );

  // The protected header (signed too).
  mutations.push(
    ...[-7, -36, -37, -8, 0, "ES384", null].map((alg) =>
      signed(
        `protected header alg ${String(alg)}`,
        ({ protectedHeader }) => protectedHeader.set(1, alg),
        { format: F.UNSUPPORTED_ALGORITHM },
      ),
    ),
    signed("protected header alg removed", ({ protectedHeader }) => protectedHeader.delete(1), {
      format: F.UNSUPPORTED_ALGORITHM,
    }),
    signed("protected header lists crit", ({ protectedHeader }) => protectedHeader.set(2, [4]), {
      format: F.MALFORMED_COSE,
    }),
    signed(
      "protected header with a kid added",
      ({ protectedHeader }) => protectedHeader.set(4, Uint8Array.of(1)),
      {},
    ),
  );
  return mutations;
}

/** Mutations of the encoding: the COSE array, tags, the signature, truncation. */
function encodingMutations(): Mutation[] {
  const mutations: Mutation[] = [];
  const order = [0, 1, 2, 3];
  for (const permutation of permutations(order)) {
    if (permutation.every((value, index) => value === index)) continue;
    // Only when the unprotected map and the signature stay put do the types still line up; the
    // payload then stands as the protected header, a map without an algorithm.
    const shapeHolds = permutation[1] === 1 && permutation[3] === 3;
    mutations.push({
      kind: "bytes",
      name: `COSE array re-ordered as [${permutation.join(", ")}]`,
      make: (parts) => {
        const items = [parts.protectedHeader, parts.unprotected, parts.payload, parts.signature];
        return encode(permutation.map((index) => items[index]));
      },
      expect: shapeHolds ? F.UNSUPPORTED_ALGORITHM : F.MALFORMED_COSE,
    });
  }
  const names = ["protected header", "unprotected header", "payload", "signature"];
  for (const [position, name] of names.entries()) {
    for (const [sampleName, sample] of TYPE_SAMPLES) {
      // A byte string is the right type for three of them; those cases are below.
      if (sample instanceof Uint8Array && position !== 1) continue;
      if (sample instanceof Map && position === 1) continue;
      mutations.push({
        kind: "bytes",
        name: `COSE ${name} replaced by ${sampleName}`,
        make: (parts) => {
          const items: unknown[] = [
            parts.protectedHeader,
            parts.unprotected,
            parts.payload,
            parts.signature,
          ];
          items[position] = sample;
          return encode(items);
        },
        expect: F.MALFORMED_COSE,
      });
    }
  }
  const withParts = (
    name: string,
    change: (parts: CoseParts) => unknown[],
    expect: Outcome,
  ): Mutation => ({ kind: "bytes", name, make: (parts) => encode(change(parts)), expect });
  mutations.push(
    withParts(
      "unprotected header with entries (not signed, not used)",
      (p) => [
        p.protectedHeader,
        new Map<unknown, unknown>([[4, Uint8Array.of(9)]]),
        p.payload,
        p.signature,
      ],
      "valid",
    ),
    withParts(
      "payload emptied",
      (p) => [p.protectedHeader, p.unprotected, new Uint8Array(0), p.signature],
      F.MALFORMED_CBOR,
    ),
    withParts(
      "payload truncated by one byte",
      (p) => [p.protectedHeader, p.unprotected, p.payload.subarray(0, -1), p.signature],
      F.MALFORMED_CBOR,
    ),
    withParts(
      "payload with a byte after the map",
      (p) => [p.protectedHeader, p.unprotected, Uint8Array.of(...p.payload, 0), p.signature],
      F.MALFORMED_CBOR,
    ),
    withParts(
      "protected header emptied",
      (p) => [new Uint8Array(0), p.unprotected, p.payload, p.signature],
      F.UNSUPPORTED_ALGORITHM,
    ),
    withParts(
      "protected header truncated",
      (p) => [p.protectedHeader.subarray(0, -1), p.unprotected, p.payload, p.signature],
      F.MALFORMED_CBOR,
    ),
    withParts(
      "signature truncated to 95 bytes",
      (p) => [p.protectedHeader, p.unprotected, p.payload, p.signature.subarray(0, 95)],
      F.MALFORMED_COSE,
    ),
    withParts(
      "signature extended to 97 bytes",
      (p) => [p.protectedHeader, p.unprotected, p.payload, Uint8Array.of(...p.signature, 0)],
      F.MALFORMED_COSE,
    ),
    withParts(
      "signature emptied",
      (p) => [p.protectedHeader, p.unprotected, p.payload, new Uint8Array(0)],
      F.MALFORMED_COSE,
    ),
    withParts(
      "signature's last byte altered",
      (p) => [p.protectedHeader, p.unprotected, p.payload, flipLast(p.signature)],
      F.SIGNATURE,
    ),
    withParts(
      "signature's first byte altered",
      (p) => [p.protectedHeader, p.unprotected, p.payload, flipFirst(p.signature)],
      F.SIGNATURE,
    ),
    withParts(
      "signature all zeros",
      (p) => [p.protectedHeader, p.unprotected, p.payload, new Uint8Array(96)],
      F.SIGNATURE,
    ),
    withParts(
      "signature all 0xff (r, s beyond the group order)",
      (p) => [p.protectedHeader, p.unprotected, p.payload, new Uint8Array(96).fill(0xff)],
      F.SIGNATURE,
    ),
    withParts(
      "signature with r and s swapped",
      (p) => [
        p.protectedHeader,
        p.unprotected,
        p.payload,
        Uint8Array.of(...p.signature.subarray(48), ...p.signature.subarray(0, 48)),
      ],
      F.SIGNATURE,
    ),
    withParts(
      "signature with s replaced by n − s (the same signature's twin)",
      (p) => [p.protectedHeader, p.unprotected, p.payload, twinSignature(p.signature)],
      "valid",
    ),
    withParts(
      "signature DER-encoded instead of raw r‖s",
      (p) => [p.protectedHeader, p.unprotected, p.payload, derSignature(p.signature)],
      F.MALFORMED_COSE,
    ),
  );
  mutations.push(
    {
      kind: "bytes",
      name: "wrapped in tag 18 (COSE_Sign1)",
      make: (parts) => encode(new Tag(18, coseArray(parts))),
      expect: "valid",
    },
    ...[16, 17, 96, 98, 24, 55_799].map(
      (tag): Mutation => ({
        kind: "bytes",
        name: `wrapped in tag ${tag}`,
        make: (parts) => encode(new Tag(tag, coseArray(parts))),
        expect: F.MALFORMED_COSE,
      }),
    ),
    {
      kind: "bytes",
      name: "wrapped in tag 18 twice",
      make: (parts) => encode(new Tag(18, new Tag(18, coseArray(parts)))),
      expect: F.MALFORMED_COSE,
    },
    {
      kind: "bytes",
      name: "a byte after the document",
      make: (_parts, raw) => Uint8Array.of(...raw, 0xf6),
      expect: F.MALFORMED_CBOR,
    },
    {
      kind: "bytes",
      name: "the document twice",
      make: (_parts, raw) => Uint8Array.of(...raw, ...raw),
      expect: F.MALFORMED_CBOR,
    },
    {
      kind: "bytes",
      name: "the document inside a byte string",
      make: (_parts, raw) => encode(raw),
      expect: F.MALFORMED_COSE,
    },
  );
  return mutations;
}

/** Mutations of what the verifier is told: time, nonce, user data, roots, PCR sets. */
function optionMutations(): Mutation[] {
  const option = (
    name: string,
    options: (base: BaseDocument, facts: BaseFacts) => VerifyAttestationOptions,
    expect: Outcome | ((base: BaseDocument) => Outcome),
  ): Mutation => ({
    kind: "options",
    name,
    options,
    expect: typeof expect === "function" ? expect : () => expect,
  });
  return [
    option(
      "verified 1 ms after the leaf expired",
      (_b, facts) => ({ at: facts.leafNotAfterMs + 1, maxAgeMs: Infinity }),
      F.CERTIFICATE_EXPIRED,
    ),
    option(
      "verified at the leaf's last valid millisecond",
      (_b, facts) => ({ at: facts.leafNotAfterMs, maxAgeMs: Infinity }),
      "valid",
    ),
    option(
      "verified today",
      () => ({ at: Date.parse("2026-11-23T12:00:00Z") }),
      F.CERTIFICATE_EXPIRED,
    ),
    option("verified now (the real clock)", () => ({ at: undefined }), F.CERTIFICATE_EXPIRED),
    option(
      "verified before the leaf's validity, beyond the clock skew",
      (_b, facts) => ({ at: facts.leafNotBeforeMs - 5 * 60_000 - 1, clockSkewMs: 5 * 60_000 }),
      F.CERTIFICATE_NOT_YET_VALID,
    ),
    option(
      "verified 1 ms after the timestamp with a maximum age of 0",
      (_b, facts) => ({ at: facts.timestampMs + 1, maxAgeMs: 0 }),
      F.TOO_OLD,
    ),
    option(
      "a wrong expected nonce",
      (_b, facts) => ({ expectedNonce: flipFirst(facts.nonce ?? new Uint8Array(32)) }),
      F.NONCE_MISMATCH,
    ),
    option(
      "an expected nonce one byte short",
      (_b, facts) => ({ expectedNonce: (facts.nonce ?? new Uint8Array(32)).subarray(1) }),
      F.NONCE_MISMATCH,
    ),
    option(
      "an empty expected nonce",
      () => ({ expectedNonce: new Uint8Array(0) }),
      F.NONCE_MISMATCH,
    ),
    option(
      "a wrong expected user_data",
      (_b, facts) => ({ expectedUserData: flipLast(facts.userData ?? new Uint8Array(32)) }),
      F.USER_DATA_MISMATCH,
    ),
    option(
      "debug documents not allowed",
      () => ({ allowDebug: false }),
      (base) => (base.allowDebug ? F.DEBUG_MODE : "valid"),
    ),
    option(
      "the dev root not allowed",
      () => ({ allowDevRoot: false }),
      (base) => (base.devAllowed ? F.DEV_ROOT_NOT_ALLOWED : "valid"),
    ),
    option("no accepted PCR sets", () => ({ pcrSets: undefined }), F.PCR_LIST_INVALID),
    option("an empty list of accepted PCR sets", () => ({ pcrSets: [] }), F.PCR_MISMATCH),
  ];
}

/**
 * The whole corpus for one base. Root swaps are built here, since they need the base's roots.
 */
export function corpusFor(base: BaseDocument): Mutation[] {
  const roots: Mutation[] = [
    signed(
      "cabundle root replaced by another dev NSM root",
      ({ payload }) => {
        cabundleOf(payload)[0] = base.otherDevRoot;
      },
      (b) => ({ chain: b.devAllowed ? F.UNTRUSTED_ROOT : F.DEV_ROOT_NOT_ALLOWED }),
    ),
    signed(
      "cabundle root replaced by the AWS root (when it is not the root)",
      ({ payload }) => {
        cabundleOf(payload)[0] = base.awsRoot;
      },
      (b) => ({ chain: b.devAllowed ? F.CHAIN : undefined }),
    ),
  ];
  return [...fieldMutations(), ...roots, ...encodingMutations(), ...optionMutations()];
}

function coseArray(parts: CoseParts): unknown[] {
  return [parts.protectedHeader, parts.unprotected, parts.payload, parts.signature];
}

function* permutations(items: readonly number[]): Generator<number[]> {
  if (items.length <= 1) {
    yield [...items];
    return;
  }
  for (const [index, item] of items.entries()) {
    const rest = [...items.slice(0, index), ...items.slice(index + 1)];
    for (const tail of permutations(rest)) yield [item, ...tail];
  }
}

/** The same ECDSA signature with s replaced by n − s: valid too, unless low S is enforced. */
function twinSignature(signature: Uint8Array): Uint8Array {
  const n = p384.Point.CURVE().n;
  const s = BigInt(`0x${Buffer.from(signature.subarray(48)).toString("hex")}`);
  const twin = (n - s).toString(16).padStart(96, "0");
  return Uint8Array.of(...signature.subarray(0, 48), ...Buffer.from(twin, "hex"));
}

/** A raw r‖s signature DER-encoded (what some libraries wrongly produce for COSE). */
function derSignature(signature: Uint8Array): Uint8Array {
  return p384.Signature.fromBytes(signature, "compact").toBytes("der");
}
