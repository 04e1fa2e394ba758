import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  EventTypeCatalogSchema,
  GetEventTypeCatalogResponseSchema,
  GetVaultStatusResponseSchema,
  HandlerDescriptorSchema,
  PasswordRequirement,
  type StatusService,
  VaultStatusSchema,
} from "../../../gen/vettid/vault/v1/status_pb.js";
import { PASSWORD_OPERATIONS, unusedUtks } from "../credentials.js";
import { VAULT_SCHEMA_VERSION } from "../vault-database.js";
import { ownerGuidOf, type VaultAccess } from "./vault-access.js";

/** The operations this vault-manager serves: name, procedure, mutates, works while locked. */
export const SERVED_OPERATIONS: readonly (readonly [string, string, boolean, boolean])[] = [
  ["bootstrap", "/vettid.vault.v1.BootstrapService/Bootstrap", true, true],
  ["setup_pin", "/vettid.vault.v1.PinService/SetupPin", true, true],
  ["unlock_vault", "/vettid.vault.v1.PinService/UnlockVault", true, true],
  ["change_pin", "/vettid.vault.v1.PinService/ChangePin", true, false],
  ["lock_vault", "/vettid.vault.v1.PinService/LockVault", false, true],
  [
    "start_password_challenge",
    "/vettid.vault.v1.CredentialService/StartPasswordChallenge",
    true,
    false,
  ],
  ["change_password", "/vettid.vault.v1.CredentialService/ChangePassword", true, false],
  ["rotate_cek", "/vettid.vault.v1.CredentialService/RotateCek", true, false],
  ["replenish_utks", "/vettid.vault.v1.CredentialService/ReplenishUtks", true, false],
  ["put_secret", "/vettid.vault.v1.SecretsService/PutSecret", true, false],
  ["get_secret", "/vettid.vault.v1.SecretsService/GetSecret", false, false],
  ["list_secrets", "/vettid.vault.v1.SecretsService/ListSecrets", false, false],
  ["list_secret_versions", "/vettid.vault.v1.SecretsService/ListSecretVersions", false, false],
  ["delete_secret", "/vettid.vault.v1.SecretsService/DeleteSecret", true, false],
  ["get_vault_status", "/vettid.vault.v1.StatusService/GetVaultStatus", false, true],
  ["get_event_type_catalog", "/vettid.vault.v1.StatusService/GetEventTypeCatalog", false, true],
  ["cast_vote", "/vettid.vault.v1.VotingService/CastVote", true, false],
  ["list_votes", "/vettid.vault.v1.VotingService/ListVotes", false, false],
];

/** StatusService: the vault's state and its handler catalogue. */
export function createStatusService(access: VaultAccess): ServiceImpl<typeof StatusService> {
  return {
    getVaultStatus(_request, context) {
      return access.use(ownerGuidOf(context), async (vault) => {
        const open = vault.isOpen ? vault.db : undefined;
        const cekVersion =
          open === undefined
            ? 0
            : Number(
                (
                  open.prepare("SELECT value FROM meta WHERE key = 'cek_version'").get() as
                    | { value: string }
                    | undefined
                )?.value ?? 0,
              );
        return create(GetVaultStatusResponseSchema, {
          status: create(VaultStatusSchema, {
            state: vault.state,
            pinAttempts: vault.pinAttempts(),
            cekVersion: BigInt(cekVersion),
            vaultVersion: access.vaultVersion,
            schemaVersion: VAULT_SCHEMA_VERSION,
            storageSizeBytes: BigInt(vault.recordBytes),
            lastSnapshotAtMs: BigInt(vault.lastWrittenAtMs),
            unusedUtkCount: open === undefined ? 0 : unusedUtks(open).length,
            unlockedAtMs: BigInt(vault.unlockedAtMs),
            serverTimeMs: BigInt(access.now()),
          }),
        });
      });
    },
    getEventTypeCatalog() {
      return create(GetEventTypeCatalogResponseSchema, {
        catalog: create(EventTypeCatalogSchema, {
          handlers: SERVED_OPERATIONS.map(([name, procedure, mutates, whileLocked]) => {
            const [, service = "", method = ""] = procedure.split("/");
            return create(HandlerDescriptorSchema, {
              name,
              service,
              method,
              procedure,
              password: !PASSWORD_OPERATIONS.has(procedure)
                ? PasswordRequirement.NONE
                : procedure.includes("SecretsService")
                  ? PasswordRequirement.CONDITIONAL
                  : PasswordRequirement.ALWAYS,
              mutates,
              worksWhileLocked: whileLocked,
            });
          }),
        }),
      });
    },
  };
}
