import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { equalBytes } from "@noble/ciphers/utils.js";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  type CredentialCreationMaterial,
  CredentialCreationMaterialSchema,
} from "../../../gen/vettid/enrollment/v1/enrollment_pb.js";
import {
  type CreateCredentialResponse,
  CreateCredentialResponseSchema,
  type ProvisioningService,
} from "../../../gen/vettid/vault/v1/provisioning_pb.js";
import { hpkeSuite } from "../../../rpc/sealing/hpke-suite.js";
import type { SealingKeyPair } from "../../../rpc/sealing/index.js";
import { createCredential, requireArgon2idParameters } from "../credentials.js";
import { readMeta, writeMeta } from "../vault-database.js";
import { requireGuid, type VaultAccess } from "./vault-access.js";

/** HPKE info of the enrollment material (enrollment.proto). */
export const ENROLL_FINALIZE_INFO = "vettid-enroll-finalize-v1";
/** Largest sealed material accepted: 4 KiB (provisioning.proto). */
export const MAX_SEALED_MATERIAL_BYTES = 4096;
const encoder = new TextEncoder();

/**
 * ProvisioningService: creates a member's vault and Protean Credential from the app's sealed
 * material, which the backend relays unread. Idempotent for an identical retry.
 */
export function createProvisioningService(
  access: VaultAccess,
  sealingKey: SealingKeyPair,
): ServiceImpl<typeof ProvisioningService> {
  return {
    async createCredential(request) {
      const ownerGuid = requireGuid(request.ownerGuid, "owner_guid");
      const sessionId = requireGuid(request.enrollmentSessionId, "enrollment_session_id");
      if (request.attestationNonce.length !== 32) {
        throw new ConnectError("attestation_nonce must be 32 bytes", Code.InvalidArgument);
      }
      const sealed = request.sealedCredentialRequest;
      if (sealed.length <= 32 || sealed.length > MAX_SEALED_MATERIAL_BYTES) {
        throw new ConnectError(
          `sealed_credential_request must be 33-${MAX_SEALED_MATERIAL_BYTES} bytes`,
          Code.InvalidArgument,
        );
      }
      const material = await openMaterial(sealingKey, sealed, sessionId);
      if (material.enrollmentSessionId !== sessionId) {
        throw new ConnectError(
          "the sealed material belongs to another enrollment session",
          Code.InvalidArgument,
        );
      }
      if (!equalBytes(material.attestationNonce, request.attestationNonce)) {
        throw new ConnectError(
          "the sealed material's attestation nonce does not match the session",
          Code.InvalidArgument,
        );
      }
      if (material.passwordHash.length !== 32) {
        throw new ConnectError("the password hash must be 32 bytes", Code.InvalidArgument);
      }
      const parameters = requireArgon2idParameters(
        material.passwordParameters,
        "password_parameters",
      );
      const digest = sha256(sealed);
      let response: CreateCredentialResponse | undefined;
      try {
        await access.create(ownerGuid, async (db) => {
          const now = access.now();
          const created = await createCredential(db, {
            ownerGuid,
            passwordHash: material.passwordHash,
            parameters,
            now,
          });
          response = create(CreateCredentialResponseSchema, {
            credential: created.credential,
            cek: created.cek,
            createdAtMs: BigInt(now),
          });
          // Kept only until SetupPin, for an identical retry of a lost reply.
          writeMeta(db, "enrollment_material_digest", digest);
          writeMeta(db, "enrollment_response", toBinary(CreateCredentialResponseSchema, response));
        });
      } catch (error) {
        if (!(error instanceof ConnectError) || error.code !== Code.AlreadyExists) throw error;
        return access.use(ownerGuid, async (vault) => {
          const db = vault.isOpen ? vault.db : undefined;
          const previous =
            db === undefined ? undefined : readMeta(db, "enrollment_material_digest");
          const stored = db === undefined ? undefined : readMeta(db, "enrollment_response");
          if (
            previous instanceof Uint8Array &&
            equalBytes(previous, digest) &&
            stored instanceof Uint8Array
          ) {
            return fromBinary(CreateCredentialResponseSchema, stored);
          }
          throw new ConnectError(`a vault already exists for ${ownerGuid}`, Code.AlreadyExists);
        });
      }
      if (response === undefined)
        throw new ConnectError("vault creation produced no credential", Code.Internal);
      return response;
    },
  };
}

async function openMaterial(
  sealingKey: SealingKeyPair,
  sealed: Uint8Array,
  sessionId: string,
): Promise<CredentialCreationMaterial> {
  try {
    const recipient = await hpkeSuite.createRecipientContext({
      recipientKey: await hpkeSuite.kem.deserializePrivateKey(sealingKey.privateKey),
      enc: sealed.slice(0, 32),
      info: encoder.encode(ENROLL_FINALIZE_INFO),
    });
    const plain = new Uint8Array(await recipient.open(sealed.slice(32), encoder.encode(sessionId)));
    return fromBinary(CredentialCreationMaterialSchema, plain);
  } catch {
    throw new ConnectError(
      "sealed_credential_request does not open with this enclave's key for this session",
      Code.InvalidArgument,
    );
  }
}
