import type { EnclaveVoteKeyCertificate } from "../../../gen/vettid/voting/v1/vote_pb.js";
import {
  type AttestationTrustStore,
  VerificationFailure,
  verifyAttestation,
} from "../attestation/index.js";
import { equalBytes } from "./bytes.js";
import {
  type EnclaveKeyPolicy,
  type EnclaveKeyVerification,
  enclaveKeyBindingProblem,
} from "./enclave-key-policy.js";
import { VOTE_COUNTERSIGNATURE_CONTEXT } from "./labels.js";

/** The attestation document's `user_data` of an enclave vote key: UTF-8 "vettid-vote-countersig-v1". */
export const ENCLAVE_VOTE_KEY_USER_DATA = new TextEncoder().encode(VOTE_COUNTERSIGNATURE_CONTEXT);

/**
 * Checks an EnclaveVoteKeyCertificate as vote.proto prescribes: key_id = hex SHA-256(public_key);
 * the key passes the strict Ed25519 checks; the attestation document verifies (chain to the AWS
 * Nitro root G1, or the dev root when `trust` allows it; PCRs of an accepted release; not debug)
 * as of its own timestamp (`attested_at_ms`, which must equal the document's), since its
 * certificates are short-lived; the document's `public_key` is the key and its `user_data` is
 * exactly UTF-8 "vettid-vote-countersig-v1". Never throws.
 */
export function verifyEnclaveVoteKeyCertificate(
  certificate: EnclaveVoteKeyCertificate,
  trust: AttestationTrustStore,
): EnclaveKeyVerification {
  const binding = enclaveKeyBindingProblem(certificate);
  if (binding !== undefined) return { ok: false, problem: binding };
  const at = Number(certificate.attestedAtMs);
  if (!Number.isSafeInteger(at) || at <= 0)
    return { ok: false, problem: "attested_at_ms is not set" };
  const result = verifyAttestation(certificate.attestationDocument, {
    ...trust,
    at,
    requirePublicKey: true,
    expectedUserData: ENCLAVE_VOTE_KEY_USER_DATA,
  });
  if (!result.valid) {
    return {
      ok: false,
      problem:
        `attestation document refused: ${VerificationFailure[result.failure]} ${result.detail}`.trim(),
    };
  }
  if (result.document.timestampMs !== certificate.attestedAtMs) {
    return { ok: false, problem: "attested_at_ms is not the attestation document's timestamp" };
  }
  if (
    result.document.publicKey === undefined ||
    !equalBytes(result.document.publicKey, certificate.publicKey)
  ) {
    return { ok: false, problem: "the attestation document's public_key is not the enclave key" };
  }
  return {
    ok: true,
    keyId: certificate.keyId,
    publicKey: certificate.publicKey,
    pcrSetId: result.matchedPcrSetId,
  };
}

/** The audit policy that verifies every enclave certificate's attestation against `trust`. */
export function attestedEnclaveKeys(trust: AttestationTrustStore): EnclaveKeyPolicy {
  return {
    attested: true,
    check: (certificate) => verifyEnclaveVoteKeyCertificate(certificate, trust),
  };
}
