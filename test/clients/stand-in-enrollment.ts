/**
 * A stand-in for the backend's EnrollmentService, doing what enrollment.proto says the backend
 * does and no more: asks the enclave for an attestation bound to a fresh nonce, checks the device
 * proofs (independently of the SDK, with node:crypto), relays the sealed material unread to
 * ProvisioningService.CreateCredential, and issues NATS credentials naming the stack's server.
 * Used by the SDK's and the CLI's enrollment tests until they run against server/enrollment.
 */
import { createHash, createPublicKey, randomUUID, verify } from "node:crypto";
import { create, fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { EnclaveAttestationService } from "../../gen/vettid/attestation/v1/attestation_service_pb.js";
import {
  DeviceAttestationPlatform,
  type DeviceProof,
  DeviceProofPayloadSchema,
  DeviceProofPurpose,
} from "../../gen/vettid/enrollment/v1/device_pb.js";
import {
  type EnrollmentService,
  VaultInfoSchema,
} from "../../gen/vettid/enrollment/v1/enrollment_pb.js";
import { NatsCredentialsSchema } from "../../gen/vettid/enrollment/v1/nats_credentials_pb.js";
import { ProvisioningService } from "../../gen/vettid/vault/v1/provisioning_pb.js";
import { createNatsTransport, createRequestSealer, createRpcClient } from "../../rpc/index.js";
import type { EnclaveStack } from "../support/enclave-stack.js";

/** The one invitation code the stand-in accepts. */
export const INVITATION = "TEST-INVITE-0001";

/** Checks a device proof as device.proto says the backend does (node:crypto, not the SDK). */
function checkProof(
  problems: string[],
  proof: DeviceProof | undefined,
  devicePublicKey: Uint8Array,
  expected: { purpose: DeviceProofPurpose; subjectId: string; digest: Uint8Array },
) {
  if (proof === undefined) throw new ConnectError("no device proof", Code.PermissionDenied);
  const key = createPublicKey({
    key: {
      kty: "EC",
      crv: "P-256",
      x: Buffer.from(devicePublicKey.subarray(1, 33)).toString("base64url"),
      y: Buffer.from(devicePublicKey.subarray(33)).toString("base64url"),
    },
    format: "jwk",
  });
  const message = Buffer.concat([Buffer.from("vettid-device-proof-v1\0"), proof.payload]);
  if (!verify("sha256", message, { key, dsaEncoding: "der" }, proof.signature)) {
    throw new ConnectError("device proof signature", Code.PermissionDenied);
  }
  const payload = fromBinary(DeviceProofPayloadSchema, proof.payload);
  if (
    payload.purpose !== expected.purpose ||
    payload.subjectId !== expected.subjectId ||
    !Buffer.from(payload.requestDigest).equals(Buffer.from(expected.digest)) ||
    payload.nonce.length !== 16 ||
    Math.abs(Number(payload.signedAtMs) - Date.now()) > 5 * 60_000
  ) {
    problems.push(`bad proof ${JSON.stringify(payload.subjectId)}`);
    throw new ConnectError("device proof content", Code.PermissionDenied);
  }
}

/** The stand-in service over `stack`; `problems` collects device proofs it refused. */
export function standInEnrollmentService(
  stack: EnclaveStack,
  problems: string[],
): ServiceImpl<typeof EnrollmentService> {
  const sessions = new Map<
    string,
    { nonce: Uint8Array; devicePublicKey: Uint8Array; key?: Uint8Array; ownerGuid?: string }
  >();
  return {
    async enrollStart(request) {
      if (request.invitationCode !== INVITATION)
        throw new ConnectError("unknown invitation", Code.NotFound);
      const attestation = request.deviceAttestation;
      if (
        attestation?.platform !== DeviceAttestationPlatform.DEV_UNATTESTED ||
        attestation.devicePublicKey.length !== 65
      ) {
        throw new ConnectError("device attestation", Code.PermissionDenied);
      }
      const nonce = crypto.getRandomValues(new Uint8Array(32));
      const backend = await stack.connect();
      const { evidence } = await createRpcClient(
        EnclaveAttestationService,
        createNatsTransport({ connection: backend }),
      ).getAttestation({ nonce });
      const id = randomUUID();
      sessions.set(id, {
        nonce,
        devicePublicKey: attestation.devicePublicKey,
        key: evidence?.sealingPublicKey,
      });
      return {
        enrollmentSessionId: id,
        attestationDocument: evidence?.attestationDocument,
        attestationNonce: nonce,
        sessionExpiresAtMs: BigInt(Date.now() + 15 * 60_000),
      };
    },
    async enrollFinalize(request) {
      const session = sessions.get(request.enrollmentSessionId);
      if (session?.key === undefined) throw new ConnectError("no session", Code.NotFound);
      checkProof(problems, request.deviceProof, session.devicePublicKey, {
        purpose: DeviceProofPurpose.ENROLL_FINALIZE,
        subjectId: request.enrollmentSessionId,
        digest: createHash("sha256").update(request.sealedCredentialRequest).digest(),
      });
      const ownerGuid = randomUUID();
      const backend = await stack.connect();
      const created = await createRpcClient(
        ProvisioningService,
        createNatsTransport({ connection: backend, sealing: createRequestSealer(session.key) }),
      ).createCredential({
        enrollmentSessionId: request.enrollmentSessionId,
        attestationNonce: session.nonce,
        sealedCredentialRequest: request.sealedCredentialRequest,
        ownerGuid,
      });
      session.ownerGuid = ownerGuid;
      return {
        ownerGuid,
        credential: created.credential,
        vault: create(VaultInfoSchema, {
          pinSetupRequired: true,
          createdAtMs: created.createdAtMs,
        }),
      };
    },
    async natsBootstrap(request) {
      const session = sessions.get(request.enrollmentSessionId);
      if (session?.ownerGuid === undefined)
        throw new ConnectError("not finalised", Code.FailedPrecondition);
      checkProof(problems, request.deviceProof, session.devicePublicKey, {
        purpose: DeviceProofPurpose.NATS_BOOTSTRAP,
        subjectId: request.enrollmentSessionId,
        digest: createHash("sha256").update(request.userNkeyPublic).digest(),
      });
      return {
        ownerGuid: session.ownerGuid,
        credentials: create(NatsCredentialsSchema, {
          userJwt: "issued-by-the-test-backend",
          userNkeyPublic: request.userNkeyPublic,
          serverUrls: [stack.nats.url],
          ownerSpacePrefix: `OwnerSpace.${session.ownerGuid}`,
        }),
      };
    },
  };
}
