import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { sha256 } from "@noble/hashes/sha2.js";
import { DeviceProofPurpose } from "../../gen/vettid/enrollment/v1/device_pb.js";
import {
  type MemberCredentialService,
  type RefreshNatsCredentialsResponse,
  RefreshNatsCredentialsResponseSchema,
} from "../../gen/vettid/enrollment/v1/member_credential_pb.js";
import type { DeviceProofChecker } from "../enrollment/device-proof.js";
import { requireUuid } from "../enrollment/request-fields.js";
import type { MembersTable } from "../storage/members-table.js";
import type { CredentialIssuance } from "./credential-issuance.js";

/** What the member credential service works with. */
export interface MemberCredentialServiceOptions {
  readonly members: MembersTable;
  readonly proofs: DeviceProofChecker;
  readonly credentials: CredentialIssuance;
}

/**
 * `vettid.enrollment.v1.MemberCredentialService`: a fresh member NATS JWT for a device-made nkey,
 * authorised by a proof from the member's registered device key. Refused for suspended members,
 * revoked device keys (device lost) and revoked nkeys.
 */
export function createMemberCredentialService(
  options: MemberCredentialServiceOptions,
): ServiceImpl<typeof MemberCredentialService> {
  const { members, proofs, credentials } = options;
  return {
    async refreshNatsCredentials(request): Promise<RefreshNatsCredentialsResponse> {
      const ownerGuid = requireUuid("owner_guid", request.ownerGuid);
      const nkey = credentials.checkNkey(request.userNkeyPublic);
      const proof = proofs.checkShape("device_proof", request.deviceProof);

      const member = await members.get(ownerGuid);
      if (member === undefined) {
        throw new ConnectError(`no member ${ownerGuid}`, Code.NotFound);
      }
      await proofs.verify("device_proof", proof, member.devicePublicKey, {
        purpose: DeviceProofPurpose.NATS_REFRESH,
        subjectId: ownerGuid,
        requestDigest: sha256(new TextEncoder().encode(nkey)),
      });
      if (member.deviceRevokedAtMs !== undefined) {
        throw new ConnectError(
          "this device key is no longer registered for the member (revoked); recover the credential on a new device",
          Code.PermissionDenied,
        );
      }
      if (member.status !== "active") {
        throw new ConnectError("the member is suspended", Code.PermissionDenied);
      }
      const issued = await credentials.issue(ownerGuid, nkey, "refresh");
      return create(RefreshNatsCredentialsResponseSchema, { credentials: issued });
    },
  };
}
