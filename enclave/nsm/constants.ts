/**
 * Fixed values of the Nitro attestation format and of the NSM seam. The format values are AWS's
 * (aws-nitro-enclaves-nsm-api `docs/attestation_process.md`); changing one breaks every verifier.
 */

/** COSE algorithm id of ES384 (ECDSA P-384 with SHA-384), the only one Nitro documents use. */
export const COSE_ALG_ES384 = -35;

/** CBOR tag of COSE_Sign1 (RFC 9052). Real NSM output omits it; verifiers must accept both. */
export const COSE_SIGN1_TAG = 18;

/** Length of an ES384 COSE signature: raw r‖s, 48 bytes each (not DER). */
export const ES384_SIGNATURE_LENGTH = 96;

/** The `digest` field of every Nitro document. */
export const PCR_DIGEST = "SHA384";

/** Length of one PCR value: a SHA-384 digest. */
export const PCR_LENGTH = 48;

/** How many PCRs a document carries: indexes 0–15, as in every real AWS document. */
export const PCR_COUNT = 16;

/**
 * Largest `public_key`, `user_data` or `nonce` an attestation request may carry. The NSM refuses
 * more than 1024 bytes in each, so the dev NSM does too: code that works against it works on Nitro.
 */
export const MAX_ATTESTATION_FIELD_BYTES = 1024;

/**
 * Largest plaintext `Nsm.seal` accepts. Sealing is for key material (a per-vault secret is a few
 * dozen bytes); data belongs under a key that is sealed, as the vault database is under its DEK.
 * 4096 bytes is KMS's own plaintext limit, so the bound holds for any way the production adapter
 * may use KMS, and dev and production refuse the same inputs.
 */
export const MAX_SEAL_PLAINTEXT_BYTES = 4096;
