import { create } from "@bufbuild/protobuf";
import { equalBytes } from "@noble/curves/utils.js";
import {
  type AttestationDocument,
  AttestationDocumentSchema,
  TrustRoot,
  VerificationFailure,
  type VerificationResult,
  VerificationResultSchema,
} from "../../../gen/vettid/attestation/v1/document_pb.js";
import { type AttestationPayload, parseAttestationPayload } from "./attestation-payload.js";
import { verifyCertificateChain } from "./certificate-chain.js";
import type { CheckFailure } from "./check-result.js";
import { MAX_DOCUMENT_BYTES } from "./constants.js";
import { parseCoseSign1 } from "./cose-sign1.js";
import { verifyCoseSignature } from "./cose-signature.js";
import {
  type ResolvedVerifyAttestationOptions,
  resolveVerifyAttestationOptions,
  type VerifyAttestationOptions,
} from "./options.js";
import { isDebugMode, matchPcrSets } from "./pcr-policy.js";

/**
 * The outcome of {@link verifyAttestation}: the schema's `VerificationResult` message (so it can
 * be logged or sent as it is), typed so that `valid: true` guarantees a document.
 */
export type AttestationVerification =
  | (VerificationResult & {
      readonly valid: true;
      readonly failure: VerificationFailure.UNSPECIFIED;
      readonly document: AttestationDocument;
    })
  | (VerificationResult & { readonly valid: false });

/**
 * Verifies a Nitro attestation document (the raw bytes the NSM returned) and reports the first
 * check that failed, in the order of the `VerificationFailure` values:
 *
 * 1. the input is bytes, at most {@link MAX_DOCUMENT_BYTES} (`MALFORMED_CBOR`, `FIELD_TOO_LARGE`);
 * 2. COSE_Sign1, tagged or untagged, ES384 in the protected header (`MALFORMED_CBOR`,
 *    `MALFORMED_COSE`, `UNSUPPORTED_ALGORITHM`);
 * 3. the payload's fields, sizes, digest and PCRs (`MISSING_FIELD`, `FIELD_TOO_LARGE`, `DIGEST`,
 *    `PCR_SIZE`);
 * 4. the certificate chain to a pinned root, valid at `at` (`MALFORMED_CERTIFICATE`,
 *    `UNTRUSTED_ROOT`, `DEV_ROOT_NOT_ALLOWED`, `CHAIN`, `CERTIFICATE_EXPIRED`,
 *    `CERTIFICATE_NOT_YET_VALID`);
 * 5. the ES384 signature over the original bytes, high S accepted (`SIGNATURE`);
 * 6. what the caller expects: no debug mode, age, clock, nonce, user data, public key, PCRs
 *    (`DEBUG_MODE`, `TOO_OLD`, `FROM_FUTURE`, `NONCE_MISMATCH`, `USER_DATA_MISMATCH`,
 *    `PUBLIC_KEY_MISSING`, `PCR_LIST_INVALID`, `PCR_MISMATCH`).
 *
 * The result's `document` is set once the payload passed step 3, even when a later check fails
 * (for diagnostics only); `trust_root` once the chain verified. Trust the document's public_key
 * only when `valid` is true.
 *
 * Never throws for any `document`, however malformed.
 *
 * @throws TypeError for invalid options (see {@link resolveVerifyAttestationOptions}).
 */
export function verifyAttestation(
  document: Uint8Array,
  options: VerifyAttestationOptions = {},
): AttestationVerification {
  return verifyResolved(document, resolveVerifyAttestationOptions(options));
}

function verifyResolved(
  document: Uint8Array,
  options: ResolvedVerifyAttestationOptions,
): AttestationVerification {
  const at = options.atMs;
  if (!(document instanceof Uint8Array)) {
    return failure(at, VerificationFailure.MALFORMED_CBOR, "document is not a Uint8Array");
  }
  if (document.length > MAX_DOCUMENT_BYTES) {
    return failure(
      at,
      VerificationFailure.FIELD_TOO_LARGE,
      `document is ${document.length} bytes; at most ${MAX_DOCUMENT_BYTES}`,
    );
  }
  // A private copy: the caller cannot change the bytes between the checks, and every byte string
  // decoded from it is a plain Uint8Array.
  const bytes = new Uint8Array(document);

  const cose = parseCoseSign1(bytes);
  if (!cose.ok) return failure(at, cose.failure, cose.detail);
  const parsed = parseAttestationPayload(cose.value.payload);
  if (!parsed.ok) return failure(at, parsed.failure, parsed.detail);
  const payload = parsed.value;
  const decoded = toDocument(payload);
  const fail = (check: CheckFailure, trustRoot = TrustRoot.UNSPECIFIED) =>
    failure(at, check.failure, check.detail, decoded, trustRoot);

  const chain = verifyCertificateChain(payload, options.chainTrust, at, options.clockSkewMs);
  if (!chain.ok) return fail(chain);
  const { trustRoot, leaf } = chain.value;
  const signature = verifyCoseSignature(cose.value, leaf);
  if (!signature.ok) return fail(signature, trustRoot);

  const expectation = checkExpectations(payload, options);
  if (expectation !== undefined) return fail(expectation, trustRoot);
  const matched = matchPcrSets(payload.pcrs, options.pcrPolicy, at);
  if (!matched.ok) return fail(matched, trustRoot);

  return create(VerificationResultSchema, {
    valid: true,
    failure: VerificationFailure.UNSPECIFIED,
    detail: "",
    document: decoded,
    trustRoot,
    matchedPcrSetId: matched.value,
    verifiedAtMs: BigInt(Math.floor(at)),
  }) as AttestationVerification;
}

/** Debug mode, age, clock, nonce, user data and public key, in the enum's order. */
function checkExpectations(
  payload: AttestationPayload,
  options: ResolvedVerifyAttestationOptions,
): CheckFailure | undefined {
  const at = options.atMs;
  if (!options.allowDebug && isDebugMode(payload.pcrs)) {
    return {
      ok: false,
      failure: VerificationFailure.DEBUG_MODE,
      detail: "PCR0, PCR1 and PCR2 are all zeros: the enclave runs in debug mode",
    };
  }
  const ageMs = at - payload.timestampMs;
  if (ageMs > options.maxAgeMs) {
    return {
      ok: false,
      failure: VerificationFailure.TOO_OLD,
      detail: `document is ${ageMs} ms old; at most ${options.maxAgeMs}`,
    };
  }
  if (-ageMs > options.clockSkewMs) {
    return {
      ok: false,
      failure: VerificationFailure.FROM_FUTURE,
      detail: `document is dated ${-ageMs} ms after the verification time; at most ${options.clockSkewMs}`,
    };
  }
  if (options.expectedNonce !== undefined && !sameBytes(payload.nonce, options.expectedNonce)) {
    return {
      ok: false,
      failure: VerificationFailure.NONCE_MISMATCH,
      detail:
        payload.nonce === undefined
          ? "document has no nonce"
          : "document nonce differs from the one sent",
    };
  }
  if (
    options.expectedUserData !== undefined &&
    !sameBytes(payload.userData, options.expectedUserData)
  ) {
    return {
      ok: false,
      failure: VerificationFailure.USER_DATA_MISMATCH,
      detail:
        payload.userData === undefined ? "document has no user_data" : "document user_data differs",
    };
  }
  if (options.requirePublicKey && payload.publicKey === undefined) {
    return {
      ok: false,
      failure: VerificationFailure.PUBLIC_KEY_MISSING,
      detail: "document has no public_key",
    };
  }
  return undefined;
}

function sameBytes(actual: Uint8Array | undefined, expected: Uint8Array): boolean {
  return actual !== undefined && equalBytes(actual, expected);
}

/** The payload as the schema's message, every byte string copied out of the document. */
function toDocument(payload: AttestationPayload): AttestationDocument {
  return create(AttestationDocumentSchema, {
    moduleId: payload.moduleId,
    timestampMs: BigInt(payload.timestampMs),
    digest: payload.digest,
    pcrs: Object.fromEntries([...payload.pcrs].map(([index, value]) => [index, value.slice()])),
    certificate: payload.certificate.slice(),
    cabundle: payload.cabundle.map((entry) => entry.slice()),
    publicKey: payload.publicKey?.slice(),
    userData: payload.userData?.slice(),
    nonce: payload.nonce?.slice(),
  });
}

function failure(
  atMs: number,
  failure: VerificationFailure,
  detail: string,
  document?: AttestationDocument,
  trustRoot = TrustRoot.UNSPECIFIED,
): AttestationVerification {
  return create(VerificationResultSchema, {
    valid: false,
    failure,
    detail,
    document,
    trustRoot,
    matchedPcrSetId: "",
    verifiedAtMs: BigInt(Math.floor(atMs)),
  }) as AttestationVerification;
}
