/** Test-only: the real AWS documents in `../testdata/` and what `expected.json` records of them. */
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { hexToBytes } from "@noble/hashes/utils.js";

/** What `expected.json` records of one document (the fields the tests read). */
export interface ExpectedDocument {
  readonly module_id: string;
  readonly digest: string;
  readonly timestamp_ms: number;
  readonly pcrs: Record<string, string>;
  readonly public_key: null | { length: number; sha256: string; hex: string | null };
  readonly user_data: null | { length: number; sha256: string; hex: string | null };
  readonly nonce: null | { length: number; sha256: string; hex: string | null };
  readonly signature_high_s: boolean;
  readonly cabundle_subject_cn: string[];
  readonly chain_valid_window: { from: string; to: string };
  readonly sha256_of_cbor_bytes: string;
}

/** A real document, the moment its source verifies it, and its recorded fields. */
export interface NitroVector {
  readonly name: string;
  readonly raw: Uint8Array;
  readonly verifyAtMs: number;
  readonly expected: ExpectedDocument;
}

function testdata(name: string): string {
  return readFileSync(new URL(`../testdata/${name}`, import.meta.url), "utf8");
}

const EXPECTED = JSON.parse(testdata("expected.json")) as Record<string, ExpectedDocument>;

function load(name: string, verifyAt: string): NitroVector {
  const expected = EXPECTED[name];
  if (expected === undefined) throw new Error(`expected.json has no ${name}`);
  return {
    name,
    raw: new Uint8Array(Buffer.from(testdata(name).trim(), "base64")),
    verifyAtMs: Date.parse(verifyAt),
    expected,
  };
}

/** veracruz-project's document: public_key null, 32-byte user_data and nonce; not debug. */
export const VECTOR_01 = load("01_veracruz_euw1_2022-11-09.b64", "2022-11-09T23:00:00Z");

/** blocky/nitrite's debug-mode document: PCR0–2 zero, high-S signature, 1024-byte fields. */
export const VECTOR_03_DEBUG = load(
  "03_blocky_use1_2024-09-07_debug.b64",
  "2024-09-07T14:38:06.508Z",
);

/** The AWS Nitro root G1 certificate, DER. */
export const AWS_ROOT_DER = new Uint8Array(
  new X509Certificate(testdata("aws_nitro_root_g1.pem")).raw,
);

/** "Today" for the expiry tests: the date the verifier was written. */
export const TODAY_MS = Date.parse("2026-11-23T12:00:00Z");

/** A vector's PCRs (from expected.json) as index → bytes. */
export function expectedPcrs(vector: NitroVector): Record<number, Uint8Array> {
  return Object.fromEntries(
    Object.entries(vector.expected.pcrs).map(([index, hex]) => [Number(index), hexToBytes(hex)]),
  );
}

/** A copy of `raw` with one byte replaced. */
export function withByte(raw: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = raw.slice();
  copy[offset] = value;
  return copy;
}
