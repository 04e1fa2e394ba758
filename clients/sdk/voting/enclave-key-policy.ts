import { sha256 } from "@noble/hashes/sha2.js";
import type { EnclaveVoteKeyCertificate } from "../../../gen/vettid/voting/v1/vote_pb.js";
import { toHex } from "./bytes.js";
import { ed25519PublicKeyProblem } from "./ed25519-strict.js";

/** The outcome of checking an enclave vote key certificate. */
export type EnclaveKeyVerification =
  | {
      readonly ok: true;
      readonly keyId: string;
      readonly publicKey: Uint8Array;
      /** The accepted build the attestation matched; empty when attestation was not checked. */
      readonly pcrSetId: string;
    }
  | { readonly ok: false; readonly problem: string };

/**
 * How an audit decides which enclave countersigning keys to accept. `attestedEnclaveKeys` (node:
 * the full check of vote.proto, attestation included) is the one for audits;
 * {@link enclaveKeyBindingOnly} is for places that cannot check an attestation document (a
 * browser: the attestation verifier uses node:crypto's X.509), and says so.
 */
export interface EnclaveKeyPolicy {
  check(certificate: EnclaveVoteKeyCertificate): EnclaveKeyVerification;
  /** Whether `check` verifies the attestation document. */
  readonly attested: boolean;
}

/** Key id of an enclave countersigning key: lowercase hex SHA-256 of the raw 32-byte key. */
export function enclaveKeyId(publicKey: Uint8Array): string {
  return toHex(sha256(publicKey));
}

/** The checks of a certificate that need no attestation verifier: a strict key, and its id. */
export function enclaveKeyBindingProblem(
  certificate: EnclaveVoteKeyCertificate,
): string | undefined {
  const keyProblem = ed25519PublicKeyProblem(certificate.publicKey);
  if (keyProblem !== undefined) return `enclave key: ${keyProblem}`;
  if (certificate.keyId !== enclaveKeyId(certificate.publicKey)) {
    return "key_id is not the SHA-256 of the enclave public key";
  }
  return undefined;
}

/**
 * Accepts a certificate's key when it is a strict Ed25519 key named by its SHA-256, without
 * checking the attestation document (`attested: false`): countersignatures are then verified
 * with the certified keys, but not that an attested VettID enclave holds them.
 */
export function enclaveKeyBindingOnly(): EnclaveKeyPolicy {
  return {
    attested: false,
    check(certificate) {
      const problem = enclaveKeyBindingProblem(certificate);
      return problem === undefined
        ? { ok: true, keyId: certificate.keyId, publicKey: certificate.publicKey, pcrSetId: "" }
        : { ok: false, problem };
    },
  };
}
