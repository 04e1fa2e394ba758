import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  ChangePinResponseSchema,
  LockVaultResponseSchema,
  PinCheckResult,
  type PinService,
  SetupPinResponseSchema,
  UnlockVaultResponseSchema,
} from "../../../gen/vettid/vault/v1/pin_pb.js";
import { authorize, rotateCek } from "../credentials.js";
import type { PinCheck, Vault } from "../vault.js";
import { committing } from "./committing.js";
import { ownerGuidOf, type VaultAccess } from "./vault-access.js";

const RESULT: Record<PinCheck, PinCheckResult> = {
  accepted: PinCheckResult.ACCEPTED,
  wrong_pin: PinCheckResult.WRONG_PIN,
  locked_out: PinCheckResult.LOCKED_OUT,
};

/** PinService: PIN setup, unlock (DEK = KDF(material, PIN)), change and lock. */
export function createPinService(access: VaultAccess): ServiceImpl<typeof PinService> {
  return {
    setupPin(request, context) {
      return access.use(ownerGuidOf(context), async (vault) => {
        await vault.setupPin(request.pin);
        access.unlocked?.(ownerGuidOf(context));
        return create(SetupPinResponseSchema, {
          state: vault.state,
          pinAttempts: vault.pinAttempts(),
          unlockedAtMs: BigInt(vault.unlockedAtMs),
        });
      });
    },
    unlockVault(request, context) {
      const ownerGuid = ownerGuidOf(context);
      return access.use(ownerGuid, async (vault) => {
        const result = await vault.unlock(request.pin);
        if (result === "locked_out") access.pinRateLimited(ownerGuid);
        if (result === "accepted") access.unlocked?.(ownerGuid);
        return create(UnlockVaultResponseSchema, {
          result: RESULT[result],
          pinAttempts: vault.pinAttempts(),
          state: vault.state,
          unlockedAtMs: result === "accepted" ? BigInt(vault.unlockedAtMs) : 0n,
        });
      });
    },
    changePin(request, context) {
      const ownerGuid = ownerGuidOf(context);
      if (!/^[0-9]{6}$/.test(request.newPin)) {
        throw new ConnectError("new_pin must be exactly 6 ASCII digits", Code.InvalidArgument);
      }
      return access.use(ownerGuid, async (vault) => {
        const check = await checkCurrentPin(vault, request.currentPin);
        if (check !== "accepted") {
          if (check === "locked_out") access.pinRateLimited(ownerGuid);
          return create(ChangePinResponseSchema, {
            result: RESULT[check],
            pinAttempts: vault.pinAttempts(),
          });
        }
        if (request.newPin === request.currentPin) {
          throw new ConnectError("new_pin must differ from current_pin", Code.InvalidArgument);
        }
        return committing(vault, async (db) => {
          const now = access.now();
          const { contents } = await authorize(
            db,
            request.authorization,
            "/vettid.vault.v1.PinService/ChangePin",
            now,
          );
          const rotated = await rotateCek(db, contents, now);
          vault.changePin(request.newPin);
          return create(ChangePinResponseSchema, {
            result: PinCheckResult.ACCEPTED,
            pinAttempts: vault.pinAttempts(),
            rotatedCredential: rotated,
            changedAtMs: BigInt(now),
          });
        });
      });
    },
    lockVault(_request, context) {
      return access.use(ownerGuidOf(context), async (vault) => {
        vault.lock();
        return create(LockVaultResponseSchema, {
          state: vault.state,
          lockedAtMs: BigInt(access.now()),
        });
      });
    },
  };
}

/** The current PIN check of ChangePin: counted like an unlock. */
async function checkCurrentPin(vault: Vault, pin: string): Promise<PinCheck> {
  return vault.unlock(pin);
}
