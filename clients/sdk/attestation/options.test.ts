import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { TrustRoot } from "../../../gen/vettid/attestation/v1/document_pb.js";
import { PcrSetSchema } from "../../../gen/vettid/attestation/v1/pcr_pb.js";
import {
  AWS_NITRO_ROOT_G1_SHA256,
  DEFAULT_CLOCK_SKEW_MS,
  DEFAULT_MAX_AGE_MS,
  resolveVerifyAttestationOptions,
  type VerifyAttestationOptions,
  verifyAttestation,
} from "./index.js";

describe("resolveVerifyAttestationOptions", () => {
  it("defaults: now, five minutes each way, AWS root only, no debug, no PCR list", () => {
    const before = Date.now();
    const resolved = resolveVerifyAttestationOptions();
    expect(resolved.atMs).toBeGreaterThanOrEqual(before);
    expect(resolved.maxAgeMs).toBe(DEFAULT_MAX_AGE_MS);
    expect(resolved.clockSkewMs).toBe(DEFAULT_CLOCK_SKEW_MS);
    expect(resolved.allowDebug).toBe(false);
    expect(resolved.requirePublicKey).toBe(false);
    expect(resolved.chainTrust.roots).toEqual([
      { fingerprintSha256: AWS_NITRO_ROOT_G1_SHA256, trustRoot: TrustRoot.AWS_NITRO_G1 },
    ]);
    expect(resolved.pcrPolicy.kind).toBe("unusable");
  });

  it("adds the dev root only when allowed, normalising its fingerprint", () => {
    const fingerprint = Array(32).fill("AB").join(":");
    const refused = resolveVerifyAttestationOptions({ devRootSha256: fingerprint });
    expect(refused.chainTrust.roots).toHaveLength(1);
    expect(refused.chainTrust.devRootSha256).toBe("ab".repeat(32));
    const allowed = resolveVerifyAttestationOptions({
      devRootSha256: fingerprint,
      allowDevRoot: true,
    });
    expect(allowed.chainTrust.roots[1]).toEqual({
      fingerprintSha256: "ab".repeat(32),
      trustRoot: TrustRoot.DEV_NSM,
    });
  });

  it("takes a Date for at, and copies the expected nonce", () => {
    const nonce = new Uint8Array(4);
    const resolved = resolveVerifyAttestationOptions({ at: new Date(5000), expectedNonce: nonce });
    expect(resolved.atMs).toBe(5000);
    nonce[0] = 1;
    expect(resolved.expectedNonce?.[0]).toBe(0);
  });

  it("keeps an unusable PCR list as a PCR_LIST_INVALID policy rather than throwing", () => {
    const set = create(PcrSetSchema, { id: "a", pcrs: { 0: new Uint8Array(48) } });
    const resolved = resolveVerifyAttestationOptions({ pcrSets: [set] });
    expect(resolved.pcrPolicy).toEqual({
      kind: "unusable",
      detail: 'pcrSets: set "a" does not pin PCR1',
    });
  });

  const invalid: [string, VerifyAttestationOptions][] = [
    ["at NaN", { at: Number.NaN }],
    ["at before the epoch", { at: -1 }],
    ["at an invalid Date", { at: new Date("nonsense") }],
    ["maxAgeMs negative", { maxAgeMs: -1 }],
    ["clockSkewMs infinite", { clockSkewMs: Number.POSITIVE_INFINITY }],
    ["expectedNonce over 1024 bytes", { expectedNonce: new Uint8Array(1025) }],
    ["expectedUserData not bytes", { expectedUserData: "abc" as unknown as Uint8Array }],
    ["allowDevRoot without a dev root", { allowDevRoot: true }],
    ["devRootSha256 not a fingerprint", { devRootSha256: "abc" }],
    ["allowDebug not a boolean", { allowDebug: "yes" as unknown as boolean }],
    ["pcrSets with allowAnyPcrs", { pcrSets: [], allowAnyPcrs: true }],
  ];
  it.each(invalid)("throws TypeError for %s", (_name, options) => {
    expect(() => resolveVerifyAttestationOptions(options)).toThrow(TypeError);
    expect(() => verifyAttestation(new Uint8Array(0), options)).toThrow(TypeError);
  });
});
