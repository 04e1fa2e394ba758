import { sha256 } from "@noble/hashes/sha2.js";
import type { EnclaveVoteKeyCertificate } from "../../../gen/vettid/voting/v1/vote_pb.js";
import {
  type AttestationTrustStore,
  VerificationFailure,
  verifyAttestation,
} from "../attestation/index.js";
import { equalBytes, toHex } from "./bytes.js";
import { ed25519PublicKeyProblem } from "./ed25519-strict.js";
import { VOTE_COUNTERSIGNATURE_CONTEXT } from "./labels.js";

/** The attestation document's `user_data` of an enclave vote key: UTF-8 "vettid-vote-countersig-v1". */
export const ENCLAVE_VOTE_KEY_USER_DATA = new TextEncoder().encode(VOTE_COUNTERSIGNATURE_CONTEXT);

/** Key id of an enclave countersigning key: lowercase hex SHA-256 of the raw 32-byte key. */
export function enclaveKeyId(publicKey: Uint8Array): string {
  return toHex(sha256(publicKey));
}

/** The outcome of {@link verifyEnclaveVoteKeyCertificate}. */
export type EnclaveKeyVerification =
  | {
      readonly ok: true;
      readonly keyId: string;
      readonly publicKey: Uint8Array;
      readonly pcrSetId: string;
    }
  | { readonly ok: false; readonly problem: string };

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
  const keyProblem = ed25519PublicKeyProblem(certificate.publicKey);
  if (keyProblem !== undefined) return { ok: false, problem: `enclave key: ${keyProblem}` };
  const keyId = enclaveKeyId(certificate.publicKey);
  if (certificate.keyId !== keyId) {
    return { ok: false, problem: "key_id is not the SHA-256 of the enclave public key" };
  }
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
  return { ok: true, keyId, publicKey: certificate.publicKey, pcrSetId: result.matchedPcrSetId };
}
