import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { hpkeSuite } from "./hpke-suite.js";
import vector from "./testdata/rfc9180-a.2.1.json" with { type: "json" };

describe("HPKE suite against RFC 9180 A.2.1 (X25519, HKDF-SHA256, ChaCha20Poly1305, base)", () => {
  it("uses the vector's algorithm ids", () => {
    expect(hpkeSuite.kem.id).toBe(vector.kem_id);
    expect(hpkeSuite.kdf.id).toBe(vector.kdf_id);
    expect(hpkeSuite.aead.id).toBe(vector.aead_id);
  });

  it("derives the recipient key pair from ikmR", async () => {
    const pair = await hpkeSuite.kem.deriveKeyPair(hexToBytes(vector.ikmR));
    expect(bytesToHex(new Uint8Array(await hpkeSuite.kem.serializePublicKey(pair.publicKey)))).toBe(
      vector.pkRm,
    );
    expect(
      bytesToHex(new Uint8Array(await hpkeSuite.kem.serializePrivateKey(pair.privateKey))),
    ).toBe(vector.skRm);
  });

  it("seals each published sequence number to the published ciphertext, and exports", async () => {
    const recipient = await hpkeSuite.kem.deserializePublicKey(hexToBytes(vector.pkRm));
    const sender = await hpkeSuite.createSenderContext({
      recipientPublicKey: recipient,
      info: hexToBytes(vector.info),
      ekm: hexToBytes(vector.ikmE),
    });
    expect(bytesToHex(new Uint8Array(sender.enc))).toBe(vector.enc);
    const wanted = new Map(vector.encryptions.map((e) => [e.seq, e]));
    const last = Math.max(...wanted.keys());
    for (let seq = 0; seq <= last; seq++) {
      const entry = wanted.get(seq);
      const pt = hexToBytes(entry?.pt ?? vector.encryptions[0]?.pt ?? "");
      const ct = new Uint8Array(await sender.seal(pt, hexToBytes(entry?.aad ?? "")));
      if (entry !== undefined) expect(bytesToHex(ct), `seq ${seq}`).toBe(entry.ct);
    }
    for (const e of vector.exports) {
      const value = await sender.export(hexToBytes(e.exporter_context), e.L);
      expect(bytesToHex(new Uint8Array(value))).toBe(e.exported_value);
    }
  });

  it("opens the published ciphertexts with skRm", async () => {
    const recipient = await hpkeSuite.createRecipientContext({
      recipientKey: await hpkeSuite.kem.deserializePrivateKey(hexToBytes(vector.skRm)),
      enc: hexToBytes(vector.enc),
      info: hexToBytes(vector.info),
    });
    const [first, second] = vector.encryptions;
    for (const entry of [first, second]) {
      const pt = await recipient.open(hexToBytes(entry?.ct ?? ""), hexToBytes(entry?.aad ?? ""));
      expect(bytesToHex(new Uint8Array(pt))).toBe(entry?.pt);
    }
  });
});
