import { ed25519 } from "@noble/curves/ed25519.js";
import { beforeAll, describe, expect, it } from "vitest";
import {
  signedMessage,
  VOTE_COUNTERSIGNATURE_CONTEXT,
  verifyEnclaveVoteKeyCertificate,
} from "../../clients/sdk/voting/index.js";
import {
  createVotingFixture,
  type VotingFixture,
} from "../../test/voting/support/voting-fixture.js";
import { createEnclaveVoteCountersigner } from "./countersigner.js";

let fixture: VotingFixture;
beforeAll(async () => {
  fixture = await createVotingFixture();
});

describe("enclave vote countersigner", () => {
  it("is certified by an attestation document naming its key, with user_data 'vettid-vote-countersig-v1'", async () => {
    const signer = await createEnclaveVoteCountersigner(fixture.nsm);
    const verified = verifyEnclaveVoteKeyCertificate(signer.certificate, fixture.attestation);
    expect(verified).toMatchObject({ ok: true, keyId: signer.keyId });
    const payload = new Uint8Array([1, 2, 3]);
    expect(
      ed25519.verify(
        signer.countersign(payload),
        signedMessage(VOTE_COUNTERSIGNATURE_CONTEXT, payload),
        signer.publicKey,
      ),
    ).toBe(true);
  });
  it("a certificate is refused when the document certifies another key, other user_data, or another time", async () => {
    const signer = await createEnclaveVoteCountersigner(fixture.nsm);
    const other = await createEnclaveVoteCountersigner(fixture.nsm);
    const swapped = {
      ...signer.certificate,
      attestationDocument: other.certificate.attestationDocument,
    };
    expect(verifyEnclaveVoteKeyCertificate(swapped, fixture.attestation)).toMatchObject({
      ok: false,
    });
    const sealingStyle = await fixture.nsm.attest({
      publicKey: signer.publicKey,
      userData: new Uint8Array([1]),
    });
    const wrongUserData = { ...signer.certificate, attestationDocument: sealingStyle };
    const refused = verifyEnclaveVoteKeyCertificate(wrongUserData, fixture.attestation);
    expect(refused.ok).toBe(false);
    const shifted = { ...signer.certificate, attestedAtMs: signer.certificate.attestedAtMs + 1n };
    expect(verifyEnclaveVoteKeyCertificate(shifted, fixture.attestation).ok).toBe(false);
    const wrongId = { ...signer.certificate, keyId: "00".repeat(32) };
    expect(verifyEnclaveVoteKeyCertificate(wrongId, fixture.attestation).ok).toBe(false);
  });
  it("a certificate from an untrusted root or build is refused", async () => {
    const signer = await createEnclaveVoteCountersigner(fixture.nsm);
    expect(verifyEnclaveVoteKeyCertificate(signer.certificate, {}).ok).toBe(false);
    expect(
      verifyEnclaveVoteKeyCertificate(signer.certificate, { ...fixture.attestation, pcrSets: [] })
        .ok,
    ).toBe(false);
  });
  it("refuses a key that is not a 32-byte seed", async () => {
    await expect(createEnclaveVoteCountersigner(fixture.nsm, new Uint8Array(31))).rejects.toThrow(
      TypeError,
    );
  });
});
