import { create } from "@bufbuild/protobuf";
import { beforeAll, describe, expect, it } from "vitest";
import { DEV_ROOT_NAME } from "../../../enclave/nsm/dev-root.js";
import { createDevNsm, type DevNsm, type DevNsmOptions } from "../../../enclave/nsm/index.js";
import { TrustRoot, VerificationFailure } from "../../../gen/vettid/attestation/v1/document_pb.js";
import { type PcrSet, PcrSetSchema } from "../../../gen/vettid/attestation/v1/pcr_pb.js";
import { type VerifyAttestationOptions, verifyAttestation } from "./index.js";
import { DEV_NSM_ROOT_COMMON_NAME } from "./trust-roots.js";

const T0 = Date.parse("2026-06-01T12:00:00Z");
const HOUR = 3600_000;

function devNsm(options: DevNsmOptions = {}): DevNsm {
  return createDevNsm({ now: () => T0, ...options });
}

/** The accepted set for a dev NSM: its PCR0–2 as it reports them. */
async function setFor(nsm: DevNsm, id = "dev-build"): Promise<PcrSet> {
  const { pcrs } = await nsm.describePcrs();
  return create(PcrSetSchema, {
    id,
    pcrs: Object.fromEntries(pcrs.filter((p) => p.index <= 2).map((p) => [p.index, p.value])),
  });
}

/** Options that trust `nsm`'s root and build. */
async function trusting(nsm: DevNsm): Promise<VerifyAttestationOptions> {
  return {
    at: T0,
    devRootSha256: (await nsm.rootCertificate()).fingerprintSha256,
    allowDevRoot: true,
    pcrSets: [await setFor(nsm)],
  };
}

describe("documents from the dev NSM (enclave/nsm)", () => {
  let nsm: DevNsm;
  let options: VerifyAttestationOptions;
  beforeAll(async () => {
    nsm = devNsm();
    options = await trusting(nsm);
  });

  it("verify with the dev root explicitly allowed, reporting TRUST_ROOT_DEV_NSM", async () => {
    const publicKey = new Uint8Array(32).fill(0xaa);
    const userData = new Uint8Array(64).fill(0xbb);
    const nonce = new Uint8Array(32).fill(0xcc);
    const raw = await nsm.attest({ publicKey, userData, nonce });
    const result = verifyAttestation(raw, {
      ...options,
      expectedNonce: nonce,
      expectedUserData: userData,
      requirePublicKey: true,
    });
    expect(result.failure).toBe(VerificationFailure.UNSPECIFIED);
    expect(result.valid).toBe(true);
    if (!result.valid) return;
    expect(result.trustRoot).toBe(TrustRoot.DEV_NSM);
    expect(result.matchedPcrSetId).toBe("dev-build");
    expect(result.document.moduleId).toBe(nsm.moduleId);
    expect(result.document.timestampMs).toBe(BigInt(T0));
    expect(result.document.publicKey).toEqual(publicKey);
    expect(result.document.userData).toEqual(userData);
    expect(result.document.nonce).toEqual(nonce);
    expect(result.document.cabundle).toHaveLength(3);
  });

  it("verify with 1024-byte fields, the largest the NSM takes", async () => {
    const big = new Uint8Array(1024).fill(7);
    const raw = await nsm.attest({ publicKey: big, userData: big, nonce: big });
    expect(verifyAttestation(raw, { ...options, expectedNonce: big }).valid).toBe(true);
  });

  it("name their root as the verifier expects a dev root to be named", () => {
    expect(DEV_NSM_ROOT_COMMON_NAME).toBe(DEV_ROOT_NAME.commonName);
  });

  it("fail DEV_ROOT_NOT_ALLOWED against the AWS root alone (the default trust)", async () => {
    const raw = await nsm.attest();
    const result = verifyAttestation(raw, { at: T0, pcrSets: options.pcrSets });
    expect(result.valid).toBe(false);
    expect(result.failure).toBe(VerificationFailure.DEV_ROOT_NOT_ALLOWED);
    expect(result.trustRoot).toBe(TrustRoot.UNSPECIFIED);
  });

  it("fail DEV_ROOT_NOT_ALLOWED when the dev root is pinned but not allowed", async () => {
    const raw = await nsm.attest();
    const result = verifyAttestation(raw, { ...options, allowDevRoot: false });
    expect(result.failure).toBe(VerificationFailure.DEV_ROOT_NOT_ALLOWED);
  });

  it("fail UNTRUSTED_ROOT when dev documents are allowed but come from another dev root", async () => {
    const other = devNsm();
    const result = verifyAttestation(await other.attest(), options);
    expect(result.failure).toBe(VerificationFailure.UNTRUSTED_ROOT);
  });

  it("verify when tagged (tag 18)", async () => {
    const tagged = devNsm({ tagged: true, root: await nsm.exportRoot() });
    const raw = await tagged.attest();
    expect(raw[0]).toBe(0xd2);
    expect(verifyAttestation(raw, options).valid).toBe(true);
  });

  it("fail CERTIFICATE_EXPIRED once the 3-hour leaf has expired, and TOO_OLD before that", async () => {
    const raw = await nsm.attest();
    expect(verifyAttestation(raw, { ...options, at: T0 + 4 * HOUR }).failure).toBe(
      VerificationFailure.CERTIFICATE_EXPIRED,
    );
    expect(verifyAttestation(raw, { ...options, at: T0 + HOUR }).failure).toBe(
      VerificationFailure.TOO_OLD,
    );
    expect(verifyAttestation(raw, { ...options, at: T0 + HOUR, maxAgeMs: HOUR }).valid).toBe(true);
  });

  it("fail NONCE_MISMATCH when the document carries no nonce but one was sent", async () => {
    const raw = await nsm.attest({ publicKey: new Uint8Array(32) });
    const result = verifyAttestation(raw, { ...options, expectedNonce: new Uint8Array(32) });
    expect(result.failure).toBe(VerificationFailure.NONCE_MISMATCH);
    expect(result.detail).toBe("document has no nonce");
  });

  it("fail PCR_MISMATCH for another build (changed PCR2)", async () => {
    const changed = devNsm({
      root: await nsm.exportRoot(),
      pcrOverrides: { 2: new Uint8Array(48).fill(9) },
    });
    const result = verifyAttestation(await changed.attest(), options);
    expect(result.failure).toBe(VerificationFailure.PCR_MISMATCH);
  });

  it("refuse a debug dev enclave unless allowDebug", async () => {
    const debug = devNsm({ root: await nsm.exportRoot(), debug: true });
    const raw = await debug.attest();
    expect(verifyAttestation(raw, options).failure).toBe(VerificationFailure.DEBUG_MODE);
    const zeros = create(PcrSetSchema, {
      id: "debug-build",
      pcrs: { 0: new Uint8Array(48), 1: new Uint8Array(48), 2: new Uint8Array(48) },
    });
    const allowed = verifyAttestation(raw, { ...options, allowDebug: true, pcrSets: [zeros] });
    expect(allowed.valid).toBe(true);
  });
});
