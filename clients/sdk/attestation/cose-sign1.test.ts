import { decode } from "cbor2";
import { describe, expect, it } from "vitest";
import { sigStructure as devNsmSigStructure } from "../../../enclave/nsm/cose-sign1.js";
import { VerificationFailure } from "../../../gen/vettid/attestation/v1/document_pb.js";
import { parseCoseSign1, sigStructure } from "./cose-sign1.js";
import { VECTOR_01 } from "./testing/vectors.js";

describe("sigStructure", () => {
  it("embeds the protected header and payload bytes verbatim, even when not canonical", () => {
    // {1: -35} with -35 in two bytes, and a payload map whose key length is in non-preferred form.
    const protectedHeader = Uint8Array.of(0xa1, 0x01, 0x39, 0x00, 0x22);
    const payload = Uint8Array.of(0xa1, 0x78, 0x01, 0x61, 0x01);
    const bytes = sigStructure(protectedHeader, payload);
    expect(decode(bytes)).toEqual(["Signature1", protectedHeader, new Uint8Array(0), payload]);
    expect(Buffer.from(bytes).includes(Buffer.from(protectedHeader))).toBe(true);
    expect(Buffer.from(bytes).includes(Buffer.from(payload))).toBe(true);
  });

  it("agrees byte for byte with the dev NSM's independent implementation", () => {
    const header = Uint8Array.of(0xa1, 0x01, 0x38, 0x22);
    const payload = Buffer.from("a payload of some length, more than 23 bytes");
    expect(sigStructure(header, payload)).toEqual(devNsmSigStructure(header, payload));
  });
});

describe("parseCoseSign1", () => {
  it("reads a real untagged document and its tagged form alike", () => {
    const untagged = parseCoseSign1(VECTOR_01.raw);
    const tagged = parseCoseSign1(Uint8Array.of(0xd2, ...VECTOR_01.raw));
    expect(untagged.ok && tagged.ok).toBe(true);
    if (!untagged.ok || !tagged.ok) return;
    expect(untagged.value.tagged).toBe(false);
    expect(tagged.value.tagged).toBe(true);
    expect(untagged.value.protectedHeader).toEqual(Uint8Array.of(0xa1, 0x01, 0x38, 0x22));
    expect(tagged.value.payload).toEqual(untagged.value.payload);
    expect(untagged.value.signature).toHaveLength(96);
  });

  it("reports the failure of the layer that is wrong", () => {
    const result = parseCoseSign1(Uint8Array.of(0x80));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failure).toBe(VerificationFailure.MALFORMED_COSE);
  });
});
