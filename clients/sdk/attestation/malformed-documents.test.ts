/**
 * One corpus of bad inputs thrown at the verifier: each must give a typed failure naming the
 * check, and none may throw.
 */
import { decode, encode, Tag } from "cbor2";
import { describe, expect, it } from "vitest";
import { VerificationFailure } from "../../../gen/vettid/attestation/v1/document_pb.js";
import { MAX_DOCUMENT_BYTES, verifyAttestation } from "./index.js";
import { VECTOR_01 } from "./testing/vectors.js";

const F = VerificationFailure;
const AT = { at: VECTOR_01.verifyAtMs, maxAgeMs: Infinity, allowAnyPcrs: true };

/** Document 01's parts: the COSE array, decoded, and its payload map. */
const [PROTECTED, UNPROTECTED, PAYLOAD, SIGNATURE] = decode(VECTOR_01.raw, { preferMap: true }) as [
  Uint8Array,
  Map<unknown, unknown>,
  Uint8Array,
  Uint8Array,
];

function payloadMap(): Map<unknown, unknown> {
  return decode(PAYLOAD, { preferMap: true }) as Map<unknown, unknown>;
}

/** Document 01 with its payload replaced by `payload` (so the signature no longer matches). */
function withPayload(payload: Uint8Array): Uint8Array {
  return encode([PROTECTED, UNPROTECTED, payload, SIGNATURE]);
}

/** Document 01 with one payload field set (or, with `undefined`, removed). */
function withField(key: string, value: unknown): Uint8Array {
  const map = payloadMap();
  if (value === undefined) map.delete(key);
  else map.set(key, value);
  return withPayload(encode(map));
}

/** A small deterministic PRNG (xorshift32), so failures reproduce. */
function prng(seed: number) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}

function randomBytes(next: () => number, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => next() & 0xff);
}

/** Verifies `input` and checks it failed with a typed failure, without throwing. */
function failureOf(input: unknown) {
  let result: ReturnType<typeof verifyAttestation> | undefined;
  expect(() => {
    result = verifyAttestation(input as Uint8Array, AT);
  }).not.toThrow();
  if (result === undefined) throw new Error("no result");
  expect(result.valid).toBe(false);
  expect(result.failure).not.toBe(F.UNSPECIFIED);
  expect(result.detail).not.toBe("");
  return result.failure;
}

const cases: [string, () => unknown, VerificationFailure][] = [
  // Not bytes at all.
  ["undefined", () => undefined, F.MALFORMED_CBOR],
  ["null", () => null, F.MALFORMED_CBOR],
  ["a string", () => "hAOhATgioFkR", F.MALFORMED_CBOR],
  ["an array of numbers", () => [...VECTOR_01.raw], F.MALFORMED_CBOR],
  // Not CBOR.
  ["empty", () => new Uint8Array(0), F.MALFORMED_CBOR],
  ["one byte 0xff (a lone break)", () => Uint8Array.of(0xff), F.MALFORMED_CBOR],
  ["a reserved additional-information value", () => Uint8Array.of(0x1c), F.MALFORMED_CBOR],
  [
    "a byte string claiming 4 GiB",
    () => Uint8Array.of(0x5a, 0xff, 0xff, 0xff, 0xff, 0),
    F.MALFORMED_CBOR,
  ],
  [
    "trailing byte after the document",
    () => Uint8Array.of(...VECTOR_01.raw, 0x00),
    F.MALFORMED_CBOR,
  ],
  [
    "indefinite-length array",
    () => Uint8Array.of(0x9f, 0x40, 0xa0, 0x40, 0x40, 0xff),
    F.MALFORMED_CBOR,
  ],
  [
    "nested 100 arrays deep",
    () => Uint8Array.of(...new Array(100).fill(0x81), 0x00),
    F.MALFORMED_CBOR,
  ],
  // CBOR, not COSE_Sign1.
  ["an integer", () => encode(42), F.MALFORMED_COSE],
  ["a text string", () => encode("COSE_Sign1"), F.MALFORMED_COSE],
  ["a map", () => encode(new Map([[1, 2]])), F.MALFORMED_COSE],
  ["an array of 3", () => encode([PROTECTED, UNPROTECTED, PAYLOAD]), F.MALFORMED_COSE],
  [
    "an array of 5",
    () => encode([PROTECTED, UNPROTECTED, PAYLOAD, SIGNATURE, SIGNATURE]),
    F.MALFORMED_COSE,
  ],
  [
    "tag 98 (COSE_Sign)",
    () => encode(new Tag(98, [PROTECTED, UNPROTECTED, PAYLOAD, SIGNATURE])),
    F.MALFORMED_COSE,
  ],
  [
    "tag 18 around tag 18",
    () => encode(new Tag(18, new Tag(18, [PROTECTED, UNPROTECTED, PAYLOAD, SIGNATURE]))),
    F.MALFORMED_COSE,
  ],
  [
    "protected header as a map",
    () => encode([new Map([[1, -35]]), UNPROTECTED, PAYLOAD, SIGNATURE]),
    F.MALFORMED_COSE,
  ],
  [
    "unprotected header as bytes",
    () => encode([PROTECTED, new Uint8Array(0), PAYLOAD, SIGNATURE]),
    F.MALFORMED_COSE,
  ],
  [
    "payload null (detached)",
    () => encode([PROTECTED, UNPROTECTED, null, SIGNATURE]),
    F.MALFORMED_COSE,
  ],
  [
    "payload as text",
    () => encode([PROTECTED, UNPROTECTED, "payload", SIGNATURE]),
    F.MALFORMED_COSE,
  ],
  [
    "payload in tag 24 (embedded CBOR)",
    () => encode([PROTECTED, UNPROTECTED, new Tag(24, PAYLOAD), SIGNATURE]),
    F.MALFORMED_COSE,
  ],
  ["signature as text", () => encode([PROTECTED, UNPROTECTED, PAYLOAD, "sig"]), F.MALFORMED_COSE],
  [
    "signature of 95 bytes",
    () => encode([PROTECTED, UNPROTECTED, PAYLOAD, SIGNATURE.subarray(1)]),
    F.MALFORMED_COSE,
  ],
  [
    "signature in DER (~103 bytes)",
    () => encode([PROTECTED, UNPROTECTED, PAYLOAD, new Uint8Array(103).fill(0x30)]),
    F.MALFORMED_COSE,
  ],
  [
    "protected header listing crit",
    () =>
      encode([
        encode(
          new Map<number, unknown>([
            [1, -35],
            [2, [1]],
          ]),
        ),
        UNPROTECTED,
        PAYLOAD,
        SIGNATURE,
      ]),
    F.MALFORMED_COSE,
  ],
  [
    "protected header not CBOR",
    () => encode([Uint8Array.of(0xa1, 0x01), UNPROTECTED, PAYLOAD, SIGNATURE]),
    F.MALFORMED_CBOR,
  ],
  [
    "protected header an array",
    () => encode([encode([1, -35]), UNPROTECTED, PAYLOAD, SIGNATURE]),
    F.MALFORMED_COSE,
  ],
  [
    "alg ES256",
    () => encode([encode(new Map([[1, -7]])), UNPROTECTED, PAYLOAD, SIGNATURE]),
    F.UNSUPPORTED_ALGORITHM,
  ],
  [
    "alg in the unprotected header only",
    () => encode([new Uint8Array(0), new Map([[1, -35]]), PAYLOAD, SIGNATURE]),
    F.UNSUPPORTED_ALGORITHM,
  ],
  // The payload.
  ["payload not CBOR", () => withPayload(Uint8Array.of(0xa9, 0x69)), F.MALFORMED_CBOR],
  ["payload an array", () => withPayload(encode([1, 2, 3])), F.MISSING_FIELD],
  [
    "payload with nonce twice (same encoding)",
    () =>
      withPayload(
        Uint8Array.of(0xa2, 0x65, ...text("nonce"), 0x40, 0x65, ...text("nonce"), 0x41, 0x01),
      ),
    F.MALFORMED_CBOR,
  ],
  [
    "payload with nonce twice (two length encodings)",
    () =>
      withPayload(
        Uint8Array.of(0xa2, 0x65, ...text("nonce"), 0x40, 0x78, 0x05, ...text("nonce"), 0x41, 0x01),
      ),
    F.MALFORMED_CBOR,
  ],
  ["payload over 16 KiB", () => withPayload(encode(new Uint8Array(16_400))), F.FIELD_TOO_LARGE],
  [
    "document over the input limit",
    () => new Uint8Array(MAX_DOCUMENT_BYTES + 1).fill(0x84),
    F.FIELD_TOO_LARGE,
  ],
  ...(["module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle"] as const).map(
    (key): [string, () => unknown, VerificationFailure] => [
      `${key} missing`,
      () => withField(key, undefined),
      F.MISSING_FIELD,
    ],
  ),
  ...(["module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle"] as const).map(
    (key): [string, () => unknown, VerificationFailure] => [
      `${key} null`,
      () => withField(key, null),
      F.MISSING_FIELD,
    ],
  ),
  ["module_id as bytes", () => withField("module_id", text("i-0")), F.MISSING_FIELD],
  ["module_id empty", () => withField("module_id", ""), F.MISSING_FIELD],
  ["digest as bytes", () => withField("digest", text("SHA384")), F.MISSING_FIELD],
  ["timestamp as text", () => withField("timestamp", "1668034320696"), F.MISSING_FIELD],
  ["timestamp zero", () => withField("timestamp", 0), F.MISSING_FIELD],
  ["timestamp negative", () => withField("timestamp", -1), F.MISSING_FIELD],
  ["timestamp a fraction", () => withField("timestamp", 1668034320696.5), F.MISSING_FIELD],
  ["timestamp beyond 2^64", () => withField("timestamp", 2n ** 64n), F.MISSING_FIELD],
  ["pcrs as an array", () => withField("pcrs", [new Uint8Array(48)]), F.MISSING_FIELD],
  ["pcrs empty", () => withField("pcrs", new Map()), F.MISSING_FIELD],
  [
    "pcrs with a text key",
    () => withField("pcrs", new Map([["0", new Uint8Array(48)]])),
    F.MISSING_FIELD,
  ],
  ["pcrs with a text value", () => withField("pcrs", new Map([[0, "00"]])), F.MISSING_FIELD],
  ["certificate as text", () => withField("certificate", "MIIC"), F.MISSING_FIELD],
  ["cabundle as bytes", () => withField("cabundle", new Uint8Array(10)), F.MISSING_FIELD],
  ["cabundle empty", () => withField("cabundle", []), F.MISSING_FIELD],
  ["cabundle with a text entry", () => withField("cabundle", ["MIIC"]), F.MISSING_FIELD],
  ["nonce as text", () => withField("nonce", "c678c861"), F.MISSING_FIELD],
  ["user_data as an integer", () => withField("user_data", 7), F.MISSING_FIELD],
  ["public_key as a map", () => withField("public_key", new Map()), F.MISSING_FIELD],
  [
    "public_key of 1025 bytes",
    () => withField("public_key", new Uint8Array(1025)),
    F.FIELD_TOO_LARGE,
  ],
  [
    "user_data of 1025 bytes",
    () => withField("user_data", new Uint8Array(1025)),
    F.FIELD_TOO_LARGE,
  ],
  ["nonce of 1025 bytes", () => withField("nonce", new Uint8Array(1025)), F.FIELD_TOO_LARGE],
  [
    "33 PCRs",
    () => withField("pcrs", new Map(Array.from({ length: 33 }, (_, i) => [i, new Uint8Array(48)]))),
    F.FIELD_TOO_LARGE,
  ],
  [
    "certificate of 1025 bytes",
    () => withField("certificate", new Uint8Array(1025)),
    F.FIELD_TOO_LARGE,
  ],
  [
    "cabundle of 9 entries",
    () => withField("cabundle", new Array(9).fill(new Uint8Array(10))),
    F.FIELD_TOO_LARGE,
  ],
  [
    "a cabundle entry of 1025 bytes",
    () => withField("cabundle", [new Uint8Array(1025)]),
    F.FIELD_TOO_LARGE,
  ],
  ["digest SHA256", () => withField("digest", "SHA256"), F.DIGEST],
  ["digest sha384 (lowercase)", () => withField("digest", "sha384"), F.DIGEST],
  ["a 32-byte PCR", () => withField("pcrs", new Map([[0, new Uint8Array(32)]])), F.PCR_SIZE],
  ["a 64-byte PCR", () => withField("pcrs", new Map([[0, new Uint8Array(64)]])), F.PCR_SIZE],
  ["an empty PCR", () => withField("pcrs", new Map([[0, new Uint8Array(0)]])), F.PCR_SIZE],
  ["PCR index 32", () => withField("pcrs", new Map([[32, new Uint8Array(48)]])), F.PCR_SIZE],
  ["PCR index -1", () => withField("pcrs", new Map([[-1, new Uint8Array(48)]])), F.PCR_SIZE],
  [
    "PCR index 2^64-1",
    () => withField("pcrs", new Map([[2n ** 64n - 1n, new Uint8Array(48)]])),
    F.PCR_SIZE,
  ],
  ["certificate empty", () => withField("certificate", new Uint8Array(0)), F.MALFORMED_CERTIFICATE],
  [
    "certificate garbage",
    () => withField("certificate", new Uint8Array(600).fill(0x30)),
    F.MALFORMED_CERTIFICATE,
  ],
  [
    "certificate as PEM text bytes",
    () => withField("certificate", text("-----BEGIN CERTIFICATE-----\n")),
    F.MALFORMED_CERTIFICATE,
  ],
  [
    "a cabundle entry garbage",
    () => withField("cabundle", [new Uint8Array(10).fill(1)]),
    F.MALFORMED_CERTIFICATE,
  ],
  [
    "cabundle without the root",
    () => withField("cabundle", (payloadMap().get("cabundle") as Uint8Array[]).slice(1)),
    F.UNTRUSTED_ROOT,
  ],
];

describe("the bad-input corpus", () => {
  it.each(cases)("%s → a typed failure", (_name, make, expected) => {
    expect(failureOf(make())).toBe(expected);
  });
});

describe("truncated documents", () => {
  it("fail MALFORMED_CBOR at every one of many offsets", () => {
    const raw = VECTOR_01.raw;
    const offsets = [
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      10,
      100,
      500,
      1000,
      2000,
      4000,
      raw.length - 97,
      raw.length - 1,
    ];
    for (let offset = 9; offset < raw.length; offset += 61) offsets.push(offset);
    for (const offset of offsets) {
      expect(failureOf(raw.subarray(0, offset)), `truncated at ${offset}`).toBe(F.MALFORMED_CBOR);
    }
  });
});

describe("random input", () => {
  it("random bytes of many lengths never verify and never throw", () => {
    const next = prng(0x5eed);
    for (const length of [1, 2, 3, 4, 8, 16, 96, 97, 255, 1024, 4461, 16_384]) {
      for (let round = 0; round < 8; round++) failureOf(randomBytes(next, length));
    }
  });

  it("random bytes after a COSE_Sign1 array header never verify and never throw", () => {
    const next = prng(0xc05e);
    for (let round = 0; round < 200; round++) {
      failureOf(Uint8Array.of(0x84, ...randomBytes(next, 1 + (next() % 200))));
    }
  });

  it("every single-bit flip at 300 random places in a real document is refused", () => {
    const next = prng(0xb17f);
    const raw = VECTOR_01.raw;
    const seen = new Set<VerificationFailure>();
    for (let round = 0; round < 300; round++) {
      const offset = next() % raw.length;
      const flipped = raw.slice();
      flipped[offset] = (flipped[offset] ?? 0) ^ (1 << (next() % 8));
      seen.add(failureOf(flipped));
    }
    // Flips land in CBOR headers, certificates, the payload and the signature alike.
    expect(seen.has(F.SIGNATURE)).toBe(true);
    expect(seen.size).toBeGreaterThan(3);
  });
});

function text(value: string): Uint8Array {
  return new TextEncoder().encode(value);
}
