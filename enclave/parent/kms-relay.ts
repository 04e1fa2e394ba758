import {
  DecryptCommand,
  GenerateDataKeyCommand,
  type KMSClient,
  KMSServiceException,
} from "@aws-sdk/client-kms";
import { create } from "@bufbuild/protobuf";
import { ErrorCode } from "../../gen/vettid/vsock/v1/frame_pb.js";
import {
  DataKeySpec,
  type EncryptionContextEntry,
  type KmsDecryptRequest,
  type KmsDecryptResponse,
  KmsDecryptResponseSchema,
  type KmsGenerateDataKeyRequest,
  type KmsGenerateDataKeyResponse,
  KmsGenerateDataKeyResponseSchema,
  RecipientKeyEncryptionAlgorithm,
} from "../../gen/vettid/vsock/v1/kms_pb.js";
import { VsockError } from "../vsock/index.js";

/** Options of {@link createKmsRelay}. */
export interface KmsRelayOptions {
  readonly client: KMSClient;
  /**
   * The only KMS key the enclave may use (its sealing key's ARN). Requests naming another key are
   * refused `PERMISSION_DENIED` before KMS is called; the key policy is the real fence.
   */
  readonly keyId: string;
}

/** The parent's side of the vsock KMS messages. */
export interface KmsRelay {
  decrypt(request: KmsDecryptRequest): Promise<KmsDecryptResponse>;
  generateDataKey(request: KmsGenerateDataKeyRequest): Promise<KmsGenerateDataKeyResponse>;
}

/** KMS errors that mean "this request will never succeed as it is". */
const REJECTED = new Set([
  "InvalidCiphertextException",
  "IncorrectKeyException",
  "AccessDeniedException",
  "InvalidKeyUsageException",
  "KMSInvalidStateException",
  "NotFoundException",
  "DisabledException",
  "ValidationException",
]);

/**
 * Performs the enclave's KMS requests with the enclave's attestation document as the
 * `Recipient`: KMS checks the document against the key policy's `kms:RecipientAttestation:*`
 * conditions and returns the plaintext only as `CiphertextForRecipient` (CMS EnvelopedData to the
 * document's RSA key). The parent never asks for, and KMS never returns to it, any plaintext.
 */
export function createKmsRelay(options: KmsRelayOptions): KmsRelay {
  const check = (
    keyId: string,
    document: Uint8Array,
    algorithm: RecipientKeyEncryptionAlgorithm,
  ) => {
    if (keyId !== options.keyId) {
      throw new VsockError(
        ErrorCode.PERMISSION_DENIED,
        `KMS key ${JSON.stringify(keyId.slice(0, 200))} is not this enclave's key`,
      );
    }
    if (document.length === 0) {
      throw new VsockError(
        ErrorCode.MALFORMED_FRAME,
        "attestation_document is required: KMS must answer to the enclave",
      );
    }
    if (algorithm !== RecipientKeyEncryptionAlgorithm.RSAES_OAEP_SHA_256) {
      throw new VsockError(
        ErrorCode.MALFORMED_FRAME,
        "key_encryption_algorithm must be RSAES_OAEP_SHA_256",
      );
    }
  };
  const recipientOf = (document: Uint8Array) => ({
    AttestationDocument: document,
    KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256" as const,
  });
  return {
    async decrypt(request) {
      check(request.keyId, request.attestationDocument, request.keyEncryptionAlgorithm);
      const output = await call(() =>
        options.client.send(
          new DecryptCommand({
            CiphertextBlob: request.ciphertextBlob,
            KeyId: request.keyId,
            EncryptionContext: contextOf(request.encryptionContext),
            Recipient: recipientOf(request.attestationDocument),
          }),
        ),
      );
      if (output.Plaintext !== undefined && output.Plaintext.length > 0) {
        throw new VsockError(
          ErrorCode.INTERNAL,
          "KMS returned plaintext to the parent: refusing to relay it",
        );
      }
      if (output.CiphertextForRecipient === undefined) {
        throw new VsockError(ErrorCode.KMS_REJECTED, "KMS returned no CiphertextForRecipient");
      }
      return create(KmsDecryptResponseSchema, {
        ciphertextForRecipient: output.CiphertextForRecipient,
        keyId: output.KeyId ?? "",
      });
    },
    async generateDataKey(request) {
      check(request.keyId, request.attestationDocument, request.keyEncryptionAlgorithm);
      if (request.keySpec !== DataKeySpec.AES_256) {
        throw new VsockError(ErrorCode.MALFORMED_FRAME, "key_spec must be AES_256");
      }
      const output = await call(() =>
        options.client.send(
          new GenerateDataKeyCommand({
            KeyId: request.keyId,
            KeySpec: "AES_256",
            EncryptionContext: contextOf(request.encryptionContext),
            Recipient: recipientOf(request.attestationDocument),
          }),
        ),
      );
      if (output.Plaintext !== undefined && output.Plaintext.length > 0) {
        throw new VsockError(
          ErrorCode.INTERNAL,
          "KMS returned plaintext to the parent: refusing to relay it",
        );
      }
      if (output.CiphertextBlob === undefined || output.CiphertextForRecipient === undefined) {
        throw new VsockError(
          ErrorCode.KMS_REJECTED,
          "KMS returned no CiphertextBlob or CiphertextForRecipient",
        );
      }
      return create(KmsGenerateDataKeyResponseSchema, {
        ciphertextBlob: output.CiphertextBlob,
        ciphertextForRecipient: output.CiphertextForRecipient,
        keyId: output.KeyId ?? "",
      });
    },
  };
}

function contextOf(entries: readonly EncryptionContextEntry[]): Record<string, string> {
  if (entries.length === 0) {
    throw new VsockError(ErrorCode.MALFORMED_FRAME, "encryption_context needs at least one entry");
  }
  const context: Record<string, string> = {};
  for (const entry of entries) {
    if (entry.key === "" || entry.key in context) {
      throw new VsockError(
        ErrorCode.MALFORMED_FRAME,
        "encryption_context keys must be non-empty and unique",
      );
    }
    context[entry.key] = entry.value;
  }
  return context;
}

async function call<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof VsockError) throw error;
    if (error instanceof KMSServiceException) {
      const code = REJECTED.has(error.name) ? ErrorCode.KMS_REJECTED : ErrorCode.UNAVAILABLE;
      throw new VsockError(code, `KMS ${error.name}: ${error.message.slice(0, 200)}`);
    }
    throw new VsockError(ErrorCode.UNAVAILABLE, `KMS unreachable: ${String(error).slice(0, 200)}`);
  }
}
