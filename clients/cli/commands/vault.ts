import type { Command } from "commander";
import { VaultState } from "../../../gen/vettid/vault/v1/common_pb.js";
import { type MemberFlags, openMemberSession, withMemberOptions } from "../member-context.js";
import { type CliIo, outputFor, table, withJsonOption } from "../output.js";

/** `vettid vault status|lock`. */
export function registerVault(program: Command, io: CliIo): void {
  const vault = program.command("vault").summary("your vault: status, lock");

  withJsonOption(
    withMemberOptions(
      vault.command("status").summary("show the vault's state, versions, storage and UTK pool"),
      io,
    ),
  ).action(async (flags: MemberFlags) => {
    const output = outputFor(io, flags);
    const { session, member, close } = await openMemberSession(flags, io);
    try {
      const status = await session.status();
      const stored = await member.credentials.current();
      const time = (ms: bigint) => (ms > 0n ? new Date(Number(ms)).toISOString() : "never");
      const result = {
        ownerGuid: session.ownerGuid,
        state: VaultState[status.state],
        pinAttemptsRemaining: status.pinAttempts?.attemptsRemaining ?? 0,
        cekVersion: status.cekVersion,
        storedCredentialVersion: stored?.cekVersion ?? null,
        vaultVersion: status.vaultVersion,
        storageSizeBytes: status.storageSizeBytes,
        lastSnapshotAt: time(status.lastSnapshotAtMs),
        unusedUtkCount: status.unusedUtkCount,
        enclaveId: session.enclave.enclaveId,
        matchedPcrSet: session.enclave.verification.matchedPcrSetId || null,
      };
      output.result(result, () => [
        `vault ${result.state.toLowerCase()}`,
        ...table([
          ["owner guid", result.ownerGuid],
          ["PIN attempts left", String(result.pinAttemptsRemaining)],
          [
            "CEK version",
            `${result.cekVersion} (credential on this device: ${result.storedCredentialVersion ?? "none"})`,
          ],
          ["vault version", result.vaultVersion],
          ["storage", `${result.storageSizeBytes} bytes, last snapshot ${result.lastSnapshotAt}`],
          ["unused UTKs", String(result.unusedUtkCount)],
          [
            "enclave",
            `${result.enclaveId} (attested${result.matchedPcrSet === null ? ", any build" : `, build ${result.matchedPcrSet}`})`,
          ],
        ]),
      ]);
    } finally {
      await close();
    }
  });

  withJsonOption(
    withMemberOptions(
      vault.command("lock").summary("lock the vault now (wipes its keys from enclave memory)"),
      io,
    ),
  ).action(async (flags: MemberFlags) => {
    const output = outputFor(io, flags);
    const { session, close } = await openMemberSession(flags, io);
    try {
      const locked = await session.lock();
      output.result(
        { state: VaultState[locked.state] },
        () => `vault ${VaultState[locked.state].toLowerCase()}`,
      );
    } finally {
      await close();
    }
  });
}
