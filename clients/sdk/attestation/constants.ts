/**
 * Fixed values of the Nitro attestation format, and the limits the verifier applies to untrusted
 * documents. The format values are AWS's (aws-nitro-enclaves-nsm-api `docs/attestation_process.md`
 * §2.2 and §3.1); the limits name their source or their reason.
 */

/** COSE algorithm id of ES384 (ECDSA P-384 with SHA-384), the only one Nitro documents use. */
export const COSE_ALG_ES384 = -35;

/** COSE header label of the algorithm (RFC 9052 §3.1). */
export const COSE_HEADER_ALG = 1;

/** COSE header label of the critical-headers list (RFC 9052 §3.1). */
export const COSE_HEADER_CRIT = 2;

/** CBOR tag of COSE_Sign1 (RFC 9052 §4.2). Real NSM output omits it; both forms are accepted. */
export const COSE_SIGN1_TAG = 18;

/** Length of an ES384 COSE signature: raw r‖s, 48 bytes each (RFC 9053 §2.1), not DER. */
export const ES384_SIGNATURE_LENGTH = 96;

/** The only `digest` a document may name. */
export const PCR_DIGEST = "SHA384";

/** Length of a PCR value under {@link PCR_DIGEST}: one SHA-384 digest. */
export const PCR_LENGTH = 48;

/** PCR indexes run from 0 to this value (AWS: `index = 0..31`). */
export const MAX_PCR_INDEX = 31;

/** At most this many PCRs in a document (AWS: `$size ∈ [1, 32]`). */
export const MAX_PCR_COUNT = 32;

/**
 * Largest `public_key`, `user_data` or `nonce`, inclusive. The format's CDDL says
 * `user_data = bytes .size (0..1024)` for all three and the NSM accepts 1024 bytes in each (real
 * documents carry exactly 1024); the 512-byte bound in AWS's §3.2.2.2 prose is not what the NSM
 * does, and a verifier applying it rejects genuine documents.
 */
export const MAX_ATTESTATION_FIELD_BYTES = 1024;

/** Largest DER certificate, leaf or `cabundle` entry (AWS: `cert = bytes .size (1..1024)`). */
export const MAX_CERTIFICATE_BYTES = 1024;

/**
 * Most `cabundle` entries accepted. AWS chains have four (root, regional, zonal, instance CA) and
 * the dev NSM's three; eight leaves room for a deeper hierarchy while bounding the work a hostile
 * document can cause.
 */
export const MAX_CABUNDLE_LENGTH = 8;

/** Largest payload (AWS §3.1: `bstr .size (1..16384)`). */
export const MAX_PAYLOAD_BYTES = 16_384;

/**
 * Largest whole document, checked before any decoding: the largest payload plus room for the
 * COSE array, the protected header and the signature (about 110 bytes).
 */
export const MAX_DOCUMENT_BYTES = MAX_PAYLOAD_BYTES + 512;

/**
 * Deepest CBOR nesting decoded. A Nitro document nests three levels (the COSE array and its
 * header map; the payload map and its `pcrs` map or `cabundle` array); 16 leaves room for fields
 * AWS may add. cbor2's default, 1024, is far more than a hostile input should get.
 */
export const MAX_CBOR_DEPTH = 16;

/**
 * Domain label of operator signatures over a `PcrSetList` (pcr.proto, `SignedPcrSetList`): the
 * signed message is this label's UTF-8, one 0x00 byte, then the list's exact bytes.
 */
export const PCR_SET_LIST_SIGNATURE_LABEL = "vettid-pcr-set-list-v1";

/** Length of an Ed25519 public key (RFC 8032), as operator keys are pinned. */
export const ED25519_PUBLIC_KEY_LENGTH = 32;

/** Length of an Ed25519 signature (RFC 8032). */
export const ED25519_SIGNATURE_LENGTH = 64;

/**
 * Largest signed PCR set list accepted, in bytes. A set is about 200 bytes (three 48-byte PCRs, an
 * id, a description); 64 KiB holds hundreds, where a real list holds two or three (the current
 * build and the previous one during a rollout).
 */
export const MAX_SIGNED_PCR_SET_LIST_BYTES = 64 * 1024;
