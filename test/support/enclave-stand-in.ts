/**
 * A stand-in for the enclave's supervisor, for the backend's integration tests: it serves the two
 * enclave services enrollment uses on a real nats-server, with the parent user's credentials, as
 * the supervisor does:
 * - `EnclaveAttestationService` at `Enclave.attestation`: real attestation documents from the dev
 *   NSM (`enclave/nsm`), carrying the stand-in's X25519 sealing key and the caller's nonce;
 * - `ProvisioningService.CreateCredential`, sealed to that key (`Enclave.sealed`): it opens the
 *   app's sealed CredentialCreationMaterial with real HPKE ("vettid-enroll-finalize-v1", aad = the
 *   session id), checks it as provisioning.proto says, generates an identity key pair and CEK
 *   version 1 and returns a credential; idempotent for an identical retry.
 * It keeps vaults in memory only. The real supervisor (`enclave/supervisor`) replaces it.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { equalBytes } from "@noble/curves/utils.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { NatsConnection } from "nats";
import type { AttestationTrustStore } from "../../clients/sdk/attestation/index.js";
import { createDevNsm, type DevNsm } from "../../enclave/nsm/index.js";
import {
  AttestationEvidenceSchema,
  EnclaveAttestationService,
  GetAttestationResponseSchema,
} from "../../gen/vettid/attestation/v1/attestation_service_pb.js";
import { PcrSetSchema } from "../../gen/vettid/attestation/v1/pcr_pb.js";
import { CredentialCreationMaterialSchema } from "../../gen/vettid/enrollment/v1/enrollment_pb.js";
import {
  CredentialEncryptionKeySchema,
  ProteanCredentialSchema,
} from "../../gen/vettid/vault/v1/credential_pb.js";
import {
  type CreateCredentialResponse,
  CreateCredentialResponseSchema,
  ProvisioningService,
} from "../../gen/vettid/vault/v1/provisioning_pb.js";
import {
  createRequestOpener,
  createSealingKeyPair,
  type NatsRpcServer,
  serveNats,
} from "../../rpc/index.js";
import { hpkeSuite } from "../../rpc/sealing/hpke-suite.js";

/** HPKE info of the enrollment material (enrollment.proto). */
const ENROLL_FINALIZE_INFO = new TextEncoder().encode("vettid-enroll-finalize-v1");
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A running stand-in. */
export interface EnclaveStandIn {
  readonly enclaveId: string;
  /** The sealing key its documents attest. */
  readonly sealingPublicKey: Uint8Array;
  /** What a verifier must trust to accept its documents: the dev root and its measured PCRs. */
  readonly trust: AttestationTrustStore;
  /** The vaults it created, by owner guid. */
  readonly vaults: ReadonlyMap<string, { readonly identityPublicKey: Uint8Array }>;
  /** How many CreateCredential calls it answered (successes and refusals). */
  readonly calls: { attestation: number; createCredential: number };
  close(): Promise<void>;
}

/** Serves the stand-in on `connection` (a parent user's). */
export async function startEnclaveStandIn(
  connection: NatsConnection,
  options: { readonly enclaveId?: string } = {},
): Promise<EnclaveStandIn> {
  const enclaveId = options.enclaveId ?? "enclave-stand-in-1";
  const nsm: DevNsm = createDevNsm();
  const keyPair = await createSealingKeyPair();
  const vaults = new Map<
    string,
    { identityPublicKey: Uint8Array; digest: Uint8Array; response: Uint8Array }
  >();
  const calls = { attestation: 0, createCredential: 0 };

  const server: NatsRpcServer = await serveNats({
    connection,
    name: "vettid-enclave-stand-in",
    sealing: createRequestOpener(keyPair),
    onProblem: () => {},
    routes: (router) => {
      router.service(EnclaveAttestationService, {
        async getAttestation(request) {
          calls.attestation++;
          if (request.nonce.length < 16 || request.nonce.length > 64) {
            throw new ConnectError("nonce must be 16 to 64 bytes", Code.InvalidArgument);
          }
          return create(GetAttestationResponseSchema, {
            evidence: create(AttestationEvidenceSchema, {
              attestationDocument: await nsm.attest({
                publicKey: keyPair.publicKey,
                nonce: request.nonce,
              }),
              sealingPublicKey: keyPair.publicKey,
              enclaveId,
            }),
          });
        },
      });
      router.service(ProvisioningService, {
        async createCredential(request): Promise<CreateCredentialResponse> {
          calls.createCredential++;
          const { ownerGuid, enrollmentSessionId: sessionId } = request;
          if (!GUID.test(ownerGuid) || !GUID.test(sessionId)) {
            throw new ConnectError(
              "owner_guid and enrollment_session_id must be guids",
              Code.InvalidArgument,
            );
          }
          if (request.attestationNonce.length !== 32) {
            throw new ConnectError("attestation_nonce must be 32 bytes", Code.InvalidArgument);
          }
          const sealed = request.sealedCredentialRequest;
          if (sealed.length <= 32 || sealed.length > 4096) {
            throw new ConnectError(
              "sealed_credential_request must be 33-4096 bytes",
              Code.InvalidArgument,
            );
          }
          const digest = sha256(sealed);
          const existing = vaults.get(ownerGuid);
          if (existing !== undefined) {
            if (equalBytes(existing.digest, digest)) {
              return fromBinary(CreateCredentialResponseSchema, existing.response);
            }
            throw new ConnectError(`a vault already exists for ${ownerGuid}`, Code.AlreadyExists);
          }
          let material: ReturnType<typeof fromBinary<typeof CredentialCreationMaterialSchema>>;
          try {
            const recipient = await hpkeSuite.createRecipientContext({
              recipientKey: await hpkeSuite.kem.deserializePrivateKey(keyPair.privateKey),
              enc: sealed.slice(0, 32),
              info: ENROLL_FINALIZE_INFO,
            });
            material = fromBinary(
              CredentialCreationMaterialSchema,
              new Uint8Array(
                await recipient.open(sealed.slice(32), new TextEncoder().encode(sessionId)),
              ),
            );
          } catch {
            throw new ConnectError(
              "sealed_credential_request does not open with this enclave's key for this session",
              Code.InvalidArgument,
            );
          }
          if (material.enrollmentSessionId !== sessionId) {
            throw new ConnectError("the material belongs to another session", Code.InvalidArgument);
          }
          if (!equalBytes(material.attestationNonce, request.attestationNonce)) {
            throw new ConnectError(
              "the material's attestation nonce does not match",
              Code.InvalidArgument,
            );
          }
          const p = material.passwordParameters;
          if (
            material.passwordHash.length !== 32 ||
            p === undefined ||
            p.memoryKib < 65536 ||
            p.iterations < 3 ||
            p.parallelism < 1 ||
            p.parallelism > 4 ||
            p.salt.length < 16 ||
            p.salt.length > 64 ||
            p.outputLength !== 32 ||
            p.version !== 19
          ) {
            throw new ConnectError(
              "the password hash or its Argon2id parameters are below the minimums",
              Code.InvalidArgument,
            );
          }
          const identity = ed25519.keygen();
          const cek = x25519.keygen();
          const now = BigInt(Date.now());
          const cekKeyId = `cek-${bytesToHex(cek.publicKey.slice(0, 8))}`;
          // The blob: the identity secret and the password hash, HPKE-sealed to the CEK.
          const blob = await hpkeSuite.seal(
            { recipientPublicKey: await hpkeSuite.kem.deserializePublicKey(cek.publicKey) },
            new Uint8Array([...identity.secretKey, ...material.passwordHash]),
          );
          const response = create(CreateCredentialResponseSchema, {
            credential: create(ProteanCredentialSchema, {
              encryptedBlob: new Uint8Array([
                ...new Uint8Array(blob.enc),
                ...new Uint8Array(blob.ct),
              ]),
              cekKeyId,
              cekVersion: 1n,
              identityPublicKey: identity.publicKey,
              issuedAtMs: now,
            }),
            cek: create(CredentialEncryptionKeySchema, {
              keyId: cekKeyId,
              version: 1n,
              publicKey: cek.publicKey,
              createdAtMs: now,
            }),
            createdAtMs: now,
          });
          vaults.set(ownerGuid, {
            identityPublicKey: identity.publicKey,
            digest,
            response: toBinary(CreateCredentialResponseSchema, response),
          });
          return response;
        },
      });
    },
  });

  const pcrs = await nsm.describePcrs();
  const root = await nsm.rootCertificate();
  return {
    enclaveId,
    sealingPublicKey: keyPair.publicKey,
    trust: {
      pcrSets: [
        create(PcrSetSchema, {
          id: "stand-in",
          pcrs: Object.fromEntries(
            pcrs.pcrs.filter((p) => p.index <= 2).map((p) => [p.index, p.value]),
          ),
        }),
      ],
      devRootSha256: root.fingerprintSha256,
      allowDevRoot: true,
    },
    vaults,
    calls,
    close: () => server.close(),
  };
}
