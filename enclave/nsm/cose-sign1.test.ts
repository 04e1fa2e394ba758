import { p384 } from "@noble/curves/nist.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { decode, Tag } from "cbor2";
import { describe, expect, it } from "vitest";
import { ES384_PROTECTED_HEADER, signCoseSign1, sigStructure } from "./cose-sign1.js";
import { coseSignatureVerifies, inspectDocument } from "./testing/inspect-document.js";
import { VECTOR_01, VECTOR_03_DEBUG } from "./testing/vectors.js";
import { generateP384KeyPair } from "./x509-issuer.js";

async function rawPublicKey(key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.exportKey("raw", key));
}

describe("COSE_Sign1", () => {
  it("writes the protected header exactly as the real NSM does", () => {
    expect(bytesToHex(ES384_PROTECTED_HEADER)).toBe("a1013822");
    expect(ES384_PROTECTED_HEADER).toEqual(inspectDocument(VECTOR_01.raw).protectedHeader);
  });

  it("builds the Sig_structure real AWS signatures verify over (low-S and high-S vectors)", () => {
    for (const vector of [VECTOR_01, VECTOR_03_DEBUG]) {
      expect(coseSignatureVerifies(inspectDocument(vector.raw)), vector.name).toBe(true);
    }
  });

  it("makes the real signature fail when its last byte changes (the veracruz bad-signature case)", () => {
    const bad = VECTOR_01.raw.slice();
    expect(bad[bad.length - 1]).toBe(0xd4);
    bad[bad.length - 1] = 0xd5;
    expect(coseSignatureVerifies(inspectDocument(bad))).toBe(false);
  });

  it("lays out the Sig_structure as [\"Signature1\", protected, h'', payload]", () => {
    const payload = Uint8Array.of(1, 2, 3);
    expect(decode(sigStructure(ES384_PROTECTED_HEADER, payload))).toEqual([
      "Signature1",
      ES384_PROTECTED_HEADER,
      new Uint8Array(0),
      payload,
    ]);
  });

  it("signs untagged [protected, {}, payload, 96-byte r‖s] verifiable with ES384", async () => {
    const keys = await generateP384KeyPair(false);
    const payload = Uint8Array.of(0xa0);
    const signed = await signCoseSign1(payload, keys.privateKey);
    expect(signed[0]).toBe(0x84);
    const [protectedHeader, unprotected, body, signature] = decode(signed, {
      preferMap: true,
    }) as [Uint8Array, Map<unknown, unknown>, Uint8Array, Uint8Array];
    expect(protectedHeader).toEqual(ES384_PROTECTED_HEADER);
    expect(unprotected).toEqual(new Map());
    expect(body).toEqual(payload);
    expect(signature).toHaveLength(96);
    const message = sigStructure(protectedHeader, body);
    expect(
      p384.verify(signature, message, await rawPublicKey(keys.publicKey), { lowS: false }),
    ).toBe(true);
  });

  it("wraps the array in tag 18 when asked", async () => {
    const keys = await generateP384KeyPair(false);
    const signed = await signCoseSign1(Uint8Array.of(0xa0), keys.privateKey, { tagged: true });
    expect(bytesToHex(signed.subarray(0, 2))).toBe("d284");
    const top = decode(signed);
    expect(top).toBeInstanceOf(Tag);
    expect((top as Tag).tag).toBe(18);
  });

  it("writes a Buffer payload as a byte string, not as Buffer's JSON", async () => {
    const keys = await generateP384KeyPair(false);
    const signed = await signCoseSign1(Buffer.from([0xa0]), keys.privateKey);
    const [, , body] = decode(signed) as unknown[];
    expect(body).toEqual(Uint8Array.of(0xa0));
  });
});
