import { TrustRoot } from "../../../gen/vettid/attestation/v1/document_pb.js";

/**
 * SHA-256 of the DER certificate of the AWS Nitro Enclaves root G1, lowercase hex: the only root
 * trusted by default.
 *
 * Source: `root.pem` in `AWS_NitroEnclaves_Root-G1.zip`
 * (https://aws-nitro-enclaves.amazonaws.com/AWS_NitroEnclaves_Root-G1.zip, linked from
 * https://docs.aws.amazon.com/enclaves/latest/user/verify-root.html; the zip's SHA-256
 * `8cf60e2b2efca96c6a9e71e851d00c1b6991cc09eadbe64a6a1d1b1eb9faff7c` is the value AWS documents).
 * Computed here as `openssl x509 -in aws_nitro_root_g1.pem -outform der | sha256sum` over the copy
 * in `shared/vectors/nitro/` (see its `aws_nitro_root_g1.SOURCE.md`); it equals `cabundle[0]` of
 * every real document there, the fingerprint AWS publishes on verify-root.html, and the value in
 * `proto/vettid/attestation/v1/document.proto`. `real-documents.test.ts` recomputes it from the PEM.
 * The certificate: `CN=aws.nitro-enclaves, OU=AWS, O=Amazon, C=US`, P-384, valid 2019-10-28 to
 * 2049-10-28. Pinning the certificate's hash (not the zip's) pins its exact bytes, so the copy each
 * document carries as `cabundle[0]` is the root itself.
 */
export const AWS_NITRO_ROOT_G1_SHA256 =
  "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b";

/**
 * Common name of the dev NSM's root (`enclave/nsm/dev-root.ts`, `DEV_ROOT_NAME`). Only used to
 * report a dev document as `DEV_ROOT_NOT_ALLOWED` rather than
 * `UNTRUSTED_ROOT` when the verifier does not allow dev documents; it never makes a root trusted.
 */
export const DEV_NSM_ROOT_COMMON_NAME = "VettID dev NSM root";

/** A root a chain may end at: its certificate's SHA-256 and what it is. */
export interface PinnedRoot {
  /** SHA-256 of the root's DER certificate, lowercase hex (64 digits). */
  readonly fingerprintSha256: string;
  /** What the root is, as reported in `VerificationResult.trust_root`. */
  readonly trustRoot: TrustRoot;
}

/** The AWS Nitro root G1, pinned. */
export const AWS_NITRO_ROOT_G1: PinnedRoot = {
  fingerprintSha256: AWS_NITRO_ROOT_G1_SHA256,
  trustRoot: TrustRoot.AWS_NITRO_G1,
};
