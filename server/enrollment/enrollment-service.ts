import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { equalBytes } from "@noble/curves/utils.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { DeviceProofPurpose } from "../../gen/vettid/enrollment/v1/device_pb.js";
import {
  type EnrollFinalizeResponse,
  EnrollFinalizeResponseSchema,
  type EnrollmentService,
  type EnrollStartResponse,
  EnrollStartResponseSchema,
  type NatsBootstrapResponse,
  NatsBootstrapResponseSchema,
  VaultInfoSchema,
} from "../../gen/vettid/enrollment/v1/enrollment_pb.js";
import { CreateCredentialRequestSchema } from "../../gen/vettid/vault/v1/provisioning_pb.js";
import { clientAddressKey } from "../http/client-address.js";
import { type Logger, silentLogger } from "../logging/index.js";
import type { CredentialIssuance } from "../member-credentials/credential-issuance.js";
import type { RequestRateLimiter } from "../rate-limits/index.js";
import type { EnrollmentSessionsTable } from "../storage/enrollment-sessions-table.js";
import type { InvitationsTable } from "../storage/invitations-table.js";
import type { MembersTable } from "../storage/members-table.js";
import {
  checkDeviceAttestationShape,
  type DeviceAttestationVerifier,
} from "./device-attestation.js";
import type { DeviceProofChecker } from "./device-proof.js";
import type { EnclaveGateway } from "./enclave-gateway.js";
import { invitationCodeHash, requireInvitationCode } from "./invitation-code.js";
import { requireBytes, requirePresent, requireUuid } from "./request-fields.js";

/**
 * How long an enrollment session lasts: 15 minutes (enrollment.proto), time for the member to
 * verify the document, choose a password and let Argon2id run, not long enough for a session id
 * to stay useful to anyone who overheard it.
 */
export const DEFAULT_ENROLLMENT_SESSION_TTL_MS = 15 * 60_000;

/** Length of the attestation nonce of a session (enrollment.proto: 32 random bytes). */
export const ATTESTATION_NONCE_LENGTH = 32;

/** Largest sealed credential material (enrollment.proto: at most 4 KiB). */
export const MAX_SEALED_CREDENTIAL_REQUEST_BYTES = 4 * 1024;

/** Smallest sealed material: the 32-byte HPKE `enc` and the 16-byte tag around anything at all. */
export const MIN_SEALED_CREDENTIAL_REQUEST_BYTES = 32 + 16 + 1;

/** What the enrollment service works with. */
export interface EnrollmentServiceOptions {
  readonly invitations: InvitationsTable;
  readonly sessions: EnrollmentSessionsTable;
  readonly members: MembersTable;
  readonly enclave: EnclaveGateway;
  readonly devices: DeviceAttestationVerifier;
  readonly proofs: DeviceProofChecker;
  readonly credentials: CredentialIssuance;
  /**
   * EnrollStart limits: per caller address and per invitation code (so neither one address nor
   * one leaked code can open sessions, and enclave attestations, in bulk). Default: none.
   */
  readonly startLimits?: {
    readonly perAddress?: RequestRateLimiter;
    readonly perInvitation?: RequestRateLimiter;
  };
  /** Default {@link DEFAULT_ENROLLMENT_SESSION_TTL_MS}. */
  readonly sessionTtlMs?: number;
  /** Clock in ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  readonly logger?: Logger;
}

/**
 * `vettid.enrollment.v1.EnrollmentService` as plain functions over the generated types
 * (enrollment.proto has the flow). Every request is validated completely before anything is read
 * or written; uniqueness (sessions, the invitation, the member) rests on conditional writes.
 */
export function createEnrollmentService(
  options: EnrollmentServiceOptions,
): ServiceImpl<typeof EnrollmentService> {
  const now = options.now ?? Date.now;
  const sessionTtlMs = options.sessionTtlMs ?? DEFAULT_ENROLLMENT_SESSION_TTL_MS;
  const logger = options.logger ?? silentLogger;
  const { invitations, sessions, members, enclave, devices, proofs, credentials } = options;

  async function loadSession(sessionId: string) {
    const session = await sessions.get(sessionId);
    if (session === undefined) {
      throw new ConnectError(`no enrollment session ${sessionId}`, Code.NotFound);
    }
    return session;
  }

  return {
    async enrollStart(request, context: HandlerContext): Promise<EnrollStartResponse> {
      const code = requireInvitationCode(request.invitationCode);
      const attestation = requirePresent("device_attestation", request.deviceAttestation);
      checkDeviceAttestationShape(attestation, "device_attestation");

      const codeHash = invitationCodeHash(code);
      const address = context.values.get(clientAddressKey);
      if (address !== undefined) await options.startLimits?.perAddress?.consume(address);
      await options.startLimits?.perInvitation?.consume(codeHash);

      const startedAtMs = now();
      const invitation = await invitations.get(codeHash);
      if (
        invitation === undefined ||
        invitation.status !== "open" ||
        invitation.expiresAtMs <= startedAtMs
      ) {
        // One answer for unknown, used and expired codes, so codes cannot be probed.
        throw new ConnectError("invitation code is unknown, used or expired", Code.NotFound);
      }
      const device = await devices.verify(attestation, "device_attestation");
      const nonce = randomBytes(ATTESTATION_NONCE_LENGTH);
      const evidence = await enclave.getAttestation(nonce);

      const sessionId = randomUUID();
      const expiresAtMs = startedAtMs + sessionTtlMs;
      const created = await sessions.create({
        sessionId,
        invitationHash: codeHash,
        ownerGuid: randomUUID(),
        devicePublicKey: device.devicePublicKey,
        devicePlatform: device.platform,
        deviceAttestationSha256: sha256(attestation.token),
        attestationNonce: nonce,
        enclaveSealingKey: evidence.sealingPublicKey,
        enclaveId: evidence.enclaveId,
        createdAtMs: startedAtMs,
        expiresAtMs,
      });
      if (!created) throw new ConnectError("session id collision", Code.Internal);
      logger.info("enrollment.started", { sessionId, enclaveId: evidence.enclaveId });
      return create(EnrollStartResponseSchema, {
        enrollmentSessionId: sessionId,
        attestationDocument: evidence.attestationDocument,
        attestationNonce: nonce,
        sessionExpiresAtMs: BigInt(expiresAtMs),
      });
    },

    async enrollFinalize(request): Promise<EnrollFinalizeResponse> {
      const sessionId = requireUuid("enrollment_session_id", request.enrollmentSessionId);
      const proof = proofs.checkShape("device_proof", request.deviceProof);
      const sealed = requireBytes("sealed_credential_request", request.sealedCredentialRequest, {
        min: MIN_SEALED_CREDENTIAL_REQUEST_BYTES,
        max: MAX_SEALED_CREDENTIAL_REQUEST_BYTES,
      });

      const session = await loadSession(sessionId);
      const nowMs = now();
      if (session.expiresAtMs <= nowMs) {
        throw new ConnectError(
          "the enrollment session has expired: start a new one (EnrollStart)",
          Code.FailedPrecondition,
        );
      }
      const materialSha256 = sha256(sealed);
      await proofs.verify("device_proof", proof, session.devicePublicKey, {
        purpose: DeviceProofPurpose.ENROLL_FINALIZE,
        subjectId: sessionId,
        requestDigest: materialSha256,
      });
      if (
        session.state !== "started" &&
        (session.materialSha256 === undefined ||
          !equalBytes(session.materialSha256, materialSha256))
      ) {
        throw new ConnectError(
          "the enrollment session was finalised with different material",
          Code.FailedPrecondition,
        );
      }
      if (session.state === "started") {
        const invitation = await invitations.get(session.invitationHash);
        const usable =
          invitation !== undefined &&
          (invitation.status === "open"
            ? invitation.expiresAtMs > nowMs
            : invitation.usedBySession === sessionId);
        if (!usable) {
          throw new ConnectError(
            "the invitation was used by another session meanwhile, or has expired",
            Code.FailedPrecondition,
          );
        }
      }
      if (!(await sessions.claim(sessionId, materialSha256, nowMs))) {
        throw new ConnectError(
          "the enrollment session is being finalised with different material, or has expired",
          Code.FailedPrecondition,
        );
      }

      let created: Awaited<ReturnType<EnclaveGateway["createCredential"]>>;
      try {
        created = await enclave.createCredential(
          create(CreateCredentialRequestSchema, {
            enrollmentSessionId: sessionId,
            attestationNonce: session.attestationNonce,
            sealedCredentialRequest: sealed,
            ownerGuid: session.ownerGuid,
          }),
          session.enclaveSealingKey,
        );
      } catch (error) {
        // The claim goes back, so the app may retry with (re-)sealed material.
        await sessions.release(sessionId, materialSha256).catch(() => {});
        const refused = ConnectError.from(error);
        if (refused.code === Code.AlreadyExists) {
          throw new ConnectError(refused.rawMessage, Code.FailedPrecondition);
        }
        throw refused;
      }
      const credential = created.credential;
      if (credential === undefined || credential.identityPublicKey.byteLength !== 32) {
        await sessions.release(sessionId, materialSha256).catch(() => {});
        throw new ConnectError("the enclave returned no usable credential", Code.Internal);
      }

      if (!(await invitations.consume(session.invitationHash, sessionId, nowMs))) {
        logger.warn("enrollment.invitation_lost_race", { sessionId, ownerGuid: session.ownerGuid });
        await sessions.release(sessionId, materialSha256).catch(() => {});
        throw new ConnectError(
          "the invitation was used by another session meanwhile",
          Code.FailedPrecondition,
        );
      }
      const member = await members.create({
        ownerGuid: session.ownerGuid,
        enrolledAtMs: nowMs,
        enrollmentSessionId: sessionId,
        devicePublicKey: session.devicePublicKey,
        devicePlatform: session.devicePlatform,
        deviceRegisteredAtMs: nowMs,
        identityPublicKey: credential.identityPublicKey,
      });
      if (member === "conflict") {
        throw new ConnectError("member id collision", Code.Internal);
      }
      await sessions.finalize(sessionId, materialSha256, nowMs);
      logger.info("enrollment.finalized", { sessionId, ownerGuid: session.ownerGuid });
      return create(EnrollFinalizeResponseSchema, {
        ownerGuid: session.ownerGuid,
        credential,
        vault: create(VaultInfoSchema, {
          createdAtMs: created.createdAtMs,
          pinSetupRequired: true,
        }),
      });
    },

    async natsBootstrap(request): Promise<NatsBootstrapResponse> {
      const sessionId = requireUuid("enrollment_session_id", request.enrollmentSessionId);
      const nkey = credentials.checkNkey(request.userNkeyPublic);
      const proof = proofs.checkShape("device_proof", request.deviceProof);

      const session = await loadSession(sessionId);
      if (session.expiresAtMs <= now()) {
        throw new ConnectError(
          "the enrollment session has expired: refresh with MemberCredentialService instead",
          Code.FailedPrecondition,
        );
      }
      if (session.state !== "finalized") {
        throw new ConnectError(
          "the enrollment session is not finalised yet: call EnrollFinalize first",
          Code.FailedPrecondition,
        );
      }
      await proofs.verify("device_proof", proof, session.devicePublicKey, {
        purpose: DeviceProofPurpose.NATS_BOOTSTRAP,
        subjectId: sessionId,
        requestDigest: sha256(new TextEncoder().encode(nkey)),
      });
      const member = await members.get(session.ownerGuid);
      if (member === undefined) {
        throw new ConnectError("the enrolled member is missing", Code.Internal);
      }
      if (member.status !== "active" || member.deviceRevokedAtMs !== undefined) {
        throw new ConnectError(
          "this member or device may not obtain NATS credentials",
          Code.PermissionDenied,
        );
      }
      const issued = await credentials.issue(session.ownerGuid, nkey, "bootstrap");
      return create(NatsBootstrapResponseSchema, {
        ownerGuid: session.ownerGuid,
        credentials: issued,
      });
    },
  };
}
