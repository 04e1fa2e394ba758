/**
 * Test-only: documents made for the tests, signed for real under a dev root with the dev NSM's
 * own building blocks (`enclave/nsm`), so that every check after the signature can be reached
 * with content no NSM would write: non-canonical encodings, odd chains, other algorithms.
 */
import { decode, encode, Tag } from "cbor2";
import { encodeAttestationPayload } from "../../../../enclave/nsm/attestation-payload.js";
import { sigStructure } from "../../../../enclave/nsm/cose-sign1.js";
import { type DevSigningChain, issueDevChain } from "../../../../enclave/nsm/dev-chain.js";
import {
  certificateFingerprint,
  createDevRoot,
  type DevRoot,
} from "../../../../enclave/nsm/dev-root.js";
import { P384_SIGNATURE_ALGORITHM } from "../../../../enclave/nsm/x509-issuer.js";

/** A dev root and a chain below it, made once per test file. */
export interface TestIssuer {
  readonly root: DevRoot;
  readonly rootSha256: string;
  readonly chain: DevSigningChain;
  readonly nowMs: number;
}

/** Makes a dev root and one signing chain at `nowMs`. */
export async function createTestIssuer(nowMs: number): Promise<TestIssuer> {
  const root = await createDevRoot(nowMs);
  const chain = await issueDevChain(root, {
    nowMs,
    moduleId: "i-00000000000000000-enc0000000000000001",
  });
  return { root, rootSha256: certificateFingerprint(root.certificate), chain, nowMs };
}

/** 48 bytes of `byte`: a PCR value. */
export function pcr(byte: number): Uint8Array {
  return new Uint8Array(48).fill(byte);
}

/** PCRs 0–15 with 0–2 set to 0x11, 0x22, 0x33 (not debug) and the rest zero. */
export function testPcrs(): Map<number, Uint8Array> {
  const pcrs = new Map<number, Uint8Array>();
  for (let index = 0; index < 16; index++) pcrs.set(index, pcr(0));
  pcrs.set(0, pcr(0x11));
  pcrs.set(1, pcr(0x22));
  pcrs.set(2, pcr(0x33));
  return pcrs;
}

/** A well-formed payload for `issuer`'s chain, as the NSM writes it (then change what you need). */
export function payloadFor(
  issuer: TestIssuer,
  fields: { nonce?: Uint8Array; userData?: Uint8Array; publicKey?: Uint8Array } = {},
): Uint8Array {
  return encodeAttestationPayload({
    moduleId: "i-00000000000000000-enc0000000000000001",
    timestampMs: issuer.nowMs,
    pcrs: testPcrs(),
    certificate: issuer.chain.certificate,
    cabundle: issuer.chain.cabundle,
    ...fields,
  });
}

/** The payload map of a payload, decoded (for tests that change one field and re-encode). */
export function payloadMap(payload: Uint8Array): Map<unknown, unknown> {
  return decode(payload, { preferMap: true }) as Map<unknown, unknown>;
}

/** Encodes a payload map again (byte strings must be plain `Uint8Array`s). */
export function encodeMap(map: Map<unknown, unknown>): Uint8Array {
  return encode(map);
}

/** The ES384 protected header AWS writes, `{1: -35}`. */
export const ES384_HEADER = Uint8Array.of(0xa1, 0x01, 0x38, 0x22);

/**
 * Signs `payload` with `signingKey` as a COSE_Sign1, over exactly the `protectedHeader` and
 * `payload` bytes given (the dev NSM's `sigStructure`, an independent implementation).
 */
export async function signDocument(
  payload: Uint8Array,
  signingKey: CryptoKey,
  options: { protectedHeader?: Uint8Array; tag?: number } = {},
): Promise<Uint8Array> {
  const protectedHeader = options.protectedHeader ?? ES384_HEADER;
  const toSign = new Uint8Array(sigStructure(protectedHeader, payload));
  const signature = new Uint8Array(
    await crypto.subtle.sign(P384_SIGNATURE_ALGORITHM, signingKey, toSign),
  );
  const sign1 = [protectedHeader, new Map(), payload, signature];
  return encode(options.tag === undefined ? sign1 : new Tag(options.tag, sign1));
}

/** Builds a COSE_Sign1 from parts without signing anything (for structure tests). */
export function coseFromParts(parts: unknown[], tag?: number): Uint8Array {
  return encode(tag === undefined ? parts : new Tag(tag, parts));
}
