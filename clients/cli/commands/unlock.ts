import type { Command } from "commander";
import { BootstrapNextStep } from "../../../gen/vettid/vault/v1/bootstrap_pb.js";
import { VaultState } from "../../../gen/vettid/vault/v1/common_pb.js";
import { PinCheckResult } from "../../../gen/vettid/vault/v1/pin_pb.js";
import { CliError, EXIT_CODES, usageError } from "../exit-codes.js";
import { type MemberFlags, openMemberSession, withMemberOptions } from "../member-context.js";
import { type CliIo, outputFor, withJsonOption } from "../output.js";
import { readSecret } from "../secret-input.js";

/** `vettid unlock`: sets the PIN of a new vault, or unlocks it with the PIN. */
export function registerUnlock(program: Command, io: CliIo): void {
  withJsonOption(
    withMemberOptions(
      program
        .command("unlock")
        .summary("unlock your vault with your PIN (sets the PIN the first time)")
        .description(
          [
            "Connects as the enrolled member, verifies the enclave's attestation, and unlocks the vault",
            "with your 6-digit PIN; a new vault gets its PIN set instead. The PIN is read from",
            "VETTID_PIN, a hidden prompt, or the first line of stdin. Three wrong PINs lock the vault",
            "for an hour. Exit 0 when the vault is unlocked, 1 for a wrong PIN or a lockout.",
          ].join("\n"),
        ),
      io,
    ),
  ).action(async (flags: MemberFlags) => {
    const output = outputFor(io, flags);
    const { session, close } = await openMemberSession(flags, io);
    try {
      const boot = await session.bootstrap();
      if (boot.nextStep === BootstrapNextStep.SUSPENDED) {
        throw new CliError(
          "the vault is suspended: contact support",
          EXIT_CODES.failed,
          "suspended",
        );
      }
      const pin = await readSecret(io, "PIN (6 digits): ", "VETTID_PIN");
      if (!/^[0-9]{6}$/.test(pin)) throw usageError("a PIN is exactly 6 digits");
      if (boot.nextStep === BootstrapNextStep.SETUP_PIN) {
        const set = await session.setupPin(pin);
        output.result(
          { state: VaultState[set.state], pinSet: true },
          () => "PIN set; the vault is unlocked",
        );
        return;
      }
      const result = await session.unlock(pin);
      const attempts = result.pinAttempts;
      const summary = {
        result: PinCheckResult[result.result],
        state: VaultState[result.state],
        attemptsRemaining: attempts?.attemptsRemaining ?? 0,
        lockedUntil:
          attempts !== undefined && attempts.lockedUntilMs > 0n
            ? new Date(Number(attempts.lockedUntilMs)).toISOString()
            : null,
      };
      const accepted = result.result === PinCheckResult.ACCEPTED;
      output.result(summary, () =>
        accepted
          ? "unlocked"
          : result.result === PinCheckResult.LOCKED_OUT
            ? `locked out until ${summary.lockedUntil}`
            : `wrong PIN: ${summary.attemptsRemaining} attempt(s) left${summary.lockedUntil === null ? "" : `; locked until ${summary.lockedUntil}`}`,
      );
      if (!accepted)
        throw new CliError("the vault was not unlocked", EXIT_CODES.failed, "not_unlocked", {
          reported: true,
        });
    } finally {
      await close();
    }
  });
}
