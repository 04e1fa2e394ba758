import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  BootstrapNextStep,
  BootstrapResponseSchema,
  type BootstrapService,
} from "../../../gen/vettid/vault/v1/bootstrap_pb.js";
import { VaultState } from "../../../gen/vettid/vault/v1/common_pb.js";
import { currentCek, INITIAL_UTK_COUNT, replenishUtks, unusedUtks } from "../credentials.js";
import { ownerGuidOf, type VaultAccess } from "./vault-access.js";

const NEXT_STEP: Partial<Record<VaultState, BootstrapNextStep>> = {
  [VaultState.UNINITIALIZED]: BootstrapNextStep.SETUP_PIN,
  [VaultState.LOCKED]: BootstrapNextStep.UNLOCK,
  [VaultState.PIN_LOCKOUT]: BootstrapNextStep.WAIT_FOR_PIN_LOCKOUT,
  [VaultState.UNLOCKED]: BootstrapNextStep.READY,
};

/** BootstrapService: first contact; registers the device, issues the first UTKs. */
export function createBootstrapService(access: VaultAccess): ServiceImpl<typeof BootstrapService> {
  return {
    bootstrap(request, context) {
      const ownerGuid = ownerGuidOf(context);
      const device = request.device;
      if (device === undefined || !/^[A-Za-z0-9_-]{1,128}$/.test(device.deviceId)) {
        throw new ConnectError(
          "device.device_id must be 1-128 letters, digits, '_' or '-'",
          Code.InvalidArgument,
        );
      }
      if (request.eventPublicKey.length !== 32) {
        throw new ConnectError("event_public_key must be 32 bytes", Code.InvalidArgument);
      }
      if (request.attestationNonce.length !== 0 && request.attestationNonce.length !== 32) {
        throw new ConnectError("attestation_nonce must be empty or 32 bytes", Code.InvalidArgument);
      }
      return access.use(ownerGuid, async (vault) => {
        const now = access.now();
        let utks = vault.isOpen ? unusedUtks(vault.db) : [];
        if (vault.isOpen) {
          const db = vault.db;
          db.prepare(
            "INSERT INTO devices (device_id, event_public_key, platform, app_version, registered_at_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET event_public_key = excluded.event_public_key, platform = excluded.platform, app_version = excluded.app_version",
          ).run(device.deviceId, request.eventPublicKey, device.platform, device.appVersion, now);
          if (vault.state === VaultState.UNINITIALIZED) {
            utks = replenishUtks(db, INITIAL_UTK_COUNT, now).utks;
          }
          await vault.commit();
        }
        return create(BootstrapResponseSchema, {
          ownerGuid,
          state: vault.state,
          nextStep: NEXT_STEP[vault.state] ?? BootstrapNextStep.UNSPECIFIED,
          pinAttempts: vault.pinAttempts(),
          cek: vault.isOpen ? currentCek(vault.db) : undefined,
          utks,
          vaultVersion: access.vaultVersion,
          serverTimeMs: BigInt(now),
          attestationDocument:
            request.attestationNonce.length > 0
              ? await access.attest(request.attestationNonce)
              : new Uint8Array(),
        });
      });
    },
  };
}
