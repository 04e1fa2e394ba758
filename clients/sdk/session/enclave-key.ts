import { equalBytes } from "@noble/curves/utils.js";
import type { NatsConnection } from "nats";
import { VaultAttestationService } from "../../../gen/vettid/attestation/v1/attestation_service_pb.js";
import { createNatsTransport, createRpcClient } from "../../../rpc/index.js";
import {
  type AttestationTrustStore,
  type AttestationVerification,
  VerificationFailure,
  verifyAttestation,
} from "../attestation/index.js";

/** Nonce length the SDK sends for attestation: 32 bytes (the service takes 16 to 64). */
export const ATTESTATION_NONCE_BYTES = 32;

/** The enclave's key for sealed calls, from a verified attestation document. */
export interface AttestedEnclaveKey {
  /** Raw 32-byte X25519 public key the vault's calls are sealed to. */
  readonly publicKey: Uint8Array;
  /** The verification result (the document, the matched PCR set, the root). */
  readonly verification: AttestationVerification & { readonly valid: true };
  /** The enclave that answered (informational, never a trust decision). */
  readonly enclaveId: string;
}

/** An attestation the app refused: which check failed, and why. */
export class AttestationRefusedError extends Error {
  override readonly name = "AttestationRefusedError";
  constructor(
    readonly failure: VerificationFailure,
    readonly detail: string,
  ) {
    super(`the enclave's attestation was refused: ${VerificationFailure[failure]} (${detail})`);
  }
}

/**
 * Fetches and verifies the enclave's key for one member's vault:
 * 1. a fresh 32-byte random nonce;
 * 2. VaultAttestationService.GetVaultAttestation on `OwnerSpace.{owner_guid}.forVault.attestation`,
 *    unsealed (the answer is public, and it is how the app learns the key to seal to);
 * 3. the document verified against `trust`, with that nonce, fresh, with a public key;
 * 4. `sealing_public_key` must equal the document's `public_key` (trust only the document).
 *
 * @throws AttestationRefusedError when the document is refused; ConnectError when the call fails.
 */
export async function fetchAttestedEnclaveKey(
  connection: NatsConnection,
  ownerGuid: string,
  trust: AttestationTrustStore,
  options: { readonly now?: () => number; readonly timeoutMs?: number } = {},
): Promise<AttestedEnclaveKey> {
  const nonce = crypto.getRandomValues(new Uint8Array(ATTESTATION_NONCE_BYTES));
  const client = createRpcClient(
    VaultAttestationService,
    createNatsTransport({ connection, subjectValues: { owner_guid: ownerGuid } }),
  );
  const { evidence } = await client.getVaultAttestation(
    { nonce },
    options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs },
  );
  const verification = verifyAttestation(evidence?.attestationDocument ?? new Uint8Array(0), {
    ...trust,
    at: (options.now ?? Date.now)(),
    expectedNonce: nonce,
    requirePublicKey: true,
  });
  if (!verification.valid)
    throw new AttestationRefusedError(verification.failure, verification.detail);
  const publicKey = verification.document.publicKey;
  if (publicKey === undefined || publicKey.length !== 32) {
    throw new AttestationRefusedError(
      VerificationFailure.PUBLIC_KEY_MISSING,
      "the attested public_key is not a 32-byte X25519 key",
    );
  }
  if (
    evidence !== undefined &&
    evidence.sealingPublicKey.length > 0 &&
    !equalBytes(evidence.sealingPublicKey, publicKey)
  ) {
    throw new AttestationRefusedError(
      VerificationFailure.PUBLIC_KEY_MISSING,
      "sealing_public_key differs from the attested public_key",
    );
  }
  return { publicKey, verification, enclaveId: evidence?.enclaveId ?? "" };
}
