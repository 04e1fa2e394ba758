import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  ChangePasswordResponseSchema,
  type CredentialService,
  ReplenishUtksResponseSchema,
  RotateCekResponseSchema,
  StartPasswordChallengeResponseSchema,
} from "../../../gen/vettid/vault/v1/credential_pb.js";
import {
  authorize,
  MAX_UTK_POOL,
  openPasswordSetup,
  replenishUtks,
  rotateCek,
  startChallenge,
  withPassword,
} from "../credentials.js";
import { committing } from "./committing.js";
import { ownerGuidOf, type VaultAccess } from "./vault-access.js";

/** CredentialService: password challenges, password change, CEK rotation, the UTK pool. */
export function createCredentialService(
  access: VaultAccess,
): ServiceImpl<typeof CredentialService> {
  return {
    startPasswordChallenge(request, context) {
      return access.use(ownerGuidOf(context), (vault) =>
        committing(vault, async (db) => {
          const challenge = startChallenge(db, request.operation, access.now());
          return create(StartPasswordChallengeResponseSchema, {
            challengeId: challenge.challengeId,
            utk: challenge.utk,
            parameters: challenge.parameters,
            expiresAtMs: BigInt(challenge.expiresAtMs),
            attemptsRemaining: challenge.attemptsRemaining,
          });
        }),
      );
    },
    changePassword(request, context) {
      return access.use(ownerGuidOf(context), (vault) =>
        committing(vault, async (db) => {
          const now = access.now();
          const { contents } = await authorize(
            db,
            request.authorization,
            "/vettid.vault.v1.CredentialService/ChangePassword",
            now,
          );
          const setup = openPasswordSetup(db, request.newPassword);
          const rotated = await rotateCek(
            db,
            withPassword(contents, setup.hash, setup.parameters),
            now,
          );
          return create(ChangePasswordResponseSchema, { rotatedCredential: rotated });
        }),
      );
    },
    rotateCek(request, context) {
      return access.use(ownerGuidOf(context), (vault) =>
        committing(vault, async (db) => {
          const now = access.now();
          const { contents } = await authorize(
            db,
            request.authorization,
            "/vettid.vault.v1.CredentialService/RotateCek",
            now,
          );
          return create(RotateCekResponseSchema, {
            rotatedCredential: await rotateCek(db, contents, now),
          });
        }),
      );
    },
    replenishUtks(request, context) {
      if (request.count > MAX_UTK_POOL) {
        throw new ConnectError(`count must be at most ${MAX_UTK_POOL}`, Code.InvalidArgument);
      }
      return access.use(ownerGuidOf(context), (vault) =>
        committing(vault, async (db) => {
          const target = request.count === 0 ? MAX_UTK_POOL : request.count;
          const { utks, issued } = replenishUtks(db, Math.max(target, 0), access.now());
          return create(ReplenishUtksResponseSchema, { utks, issuedCount: issued });
        }),
      );
    },
  };
}
