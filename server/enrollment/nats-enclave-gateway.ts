import { Code, ConnectError } from "@connectrpc/connect";
import { equalBytes } from "@noble/curves/utils.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { NatsConnection } from "nats";
import {
  type AttestationTrustStore,
  verifyAttestation,
} from "../../clients/sdk/attestation/index.js";
import { EnclaveAttestationService } from "../../gen/vettid/attestation/v1/attestation_service_pb.js";
import { VerificationFailure } from "../../gen/vettid/attestation/v1/document_pb.js";
import { ProvisioningService } from "../../gen/vettid/vault/v1/provisioning_pb.js";
import { createNatsTransport, createRequestSealer, createRpcClient } from "../../rpc/index.js";
import { describeError, type Logger, silentLogger } from "../logging/index.js";
import type { EnclaveGateway, VerifiedAttestation } from "./enclave-gateway.js";

/**
 * Deadline of calls to the enclave: 10 s. Attestation is one NSM request and CreateCredential a
 * few key generations; a longer wait would only hold the app's HTTP request open (API Gateway
 * gives up at 30 s).
 */
export const DEFAULT_ENCLAVE_CALL_TIMEOUT_MS = 10_000;

/**
 * Sealed provisioning clients kept, one per attested enclave key: keys change only when an enclave
 * restarts, and a handful covers a rolling restart of a fleet.
 */
export const DEFAULT_PROVISIONING_CLIENT_CACHE = 16;

/** Options of {@link createNatsEnclaveGateway}. */
export interface NatsEnclaveGatewayOptions {
  /** A NATS connection of the backend user (it may publish to `Enclave.attestation` / `Enclave.sealed`). */
  readonly connection: NatsConnection;
  /**
   * What the backend trusts: accepted PCR sets (required: no sets, no enclave is trusted), and,
   * for development only, the dev NSM's root (`devRootSha256` + `allowDevRoot`) and debug mode.
   */
  readonly trust: AttestationTrustStore;
  /** Default {@link DEFAULT_ENCLAVE_CALL_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** Clock for the verification time. Default `Date.now`. */
  readonly now?: () => number;
  /** Where refused attestations are logged. */
  readonly logger?: Logger;
}

/**
 * The {@link EnclaveGateway} over NATS: `EnclaveAttestationService` at `Enclave.attestation`
 * (unsealed, the document is public) verified with `clients/sdk/attestation`, and
 * `ProvisioningService` sealed with `createRequestSealer` to the attested key (`Enclave.sealed`),
 * so only the attested enclave can read the call, the relays see ciphertext.
 */
export function createNatsEnclaveGateway(options: NatsEnclaveGatewayOptions): EnclaveGateway {
  const timeoutMs = options.timeoutMs ?? DEFAULT_ENCLAVE_CALL_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const attestation = createRpcClient(
    EnclaveAttestationService,
    createNatsTransport({ connection: options.connection }),
  );
  const provisioning = new Map<string, ReturnType<typeof provisioningClient>>();
  const provisioningClient = (key: Uint8Array) =>
    createRpcClient(
      ProvisioningService,
      createNatsTransport({ connection: options.connection, sealing: createRequestSealer(key) }),
    );

  return {
    async getAttestation(nonce) {
      let evidence: Awaited<ReturnType<typeof attestation.getAttestation>>["evidence"];
      try {
        ({ evidence } = await attestation.getAttestation({ nonce }, { timeoutMs }));
      } catch (error) {
        throw unavailable("no enclave answered the attestation request", error);
      }
      if (evidence === undefined) throw unavailable("the enclave sent no attestation evidence");
      const result = verifyAttestation(evidence.attestationDocument, {
        ...options.trust,
        at: now(),
        expectedNonce: nonce,
        requirePublicKey: true,
      });
      if (!result.valid) {
        logger.error("enclave.attestation_refused", {
          enclaveId: evidence.enclaveId,
          failure: VerificationFailure[result.failure],
          detail: result.detail,
        });
        throw unavailable(
          "the enclave's attestation did not verify; no enclave can attest right now",
        );
      }
      const sealingPublicKey = result.document.publicKey ?? new Uint8Array();
      if (sealingPublicKey.byteLength !== 32) {
        logger.error("enclave.attestation_refused", {
          enclaveId: evidence.enclaveId,
          failure: "PUBLIC_KEY_LENGTH",
          detail: `public_key is ${sealingPublicKey.byteLength} bytes, not an X25519 key`,
        });
        throw unavailable("the enclave's attested key is not an X25519 key");
      }
      if (!equalBytes(evidence.sealingPublicKey, sealingPublicKey)) {
        logger.warn("enclave.evidence_key_mismatch", { enclaveId: evidence.enclaveId });
      }
      const verified: VerifiedAttestation = {
        attestationDocument: evidence.attestationDocument,
        sealingPublicKey,
        enclaveId: evidence.enclaveId,
        matchedPcrSetId: result.matchedPcrSetId,
      };
      return verified;
    },

    async createCredential(request, sealingPublicKey) {
      if (sealingPublicKey.byteLength !== 32) {
        throw new ConnectError("sealing key must be 32 bytes", Code.Internal);
      }
      const id = bytesToHex(sealingPublicKey);
      let client = provisioning.get(id);
      if (client === undefined) {
        client = provisioningClient(sealingPublicKey);
        provisioning.set(id, client);
        if (provisioning.size > DEFAULT_PROVISIONING_CLIENT_CACHE) {
          const oldest = provisioning.keys().next().value;
          if (oldest !== undefined) provisioning.delete(oldest);
        }
      }
      try {
        return await client.createCredential(request, { timeoutMs });
      } catch (error) {
        const connectError = ConnectError.from(error);
        if (
          connectError.code === Code.InvalidArgument ||
          connectError.code === Code.AlreadyExists ||
          connectError.code === Code.FailedPrecondition
        ) {
          throw new ConnectError(
            `the enclave refused: ${connectError.rawMessage}`,
            connectError.code,
          );
        }
        logger.warn("enclave.create_credential_failed", { error: describeError(connectError) });
        throw unavailable("the enclave could not create the credential right now", error);
      }
    },
  };
}

function unavailable(message: string, cause?: unknown): ConnectError {
  return new ConnectError(message, Code.Unavailable, undefined, undefined, cause);
}
