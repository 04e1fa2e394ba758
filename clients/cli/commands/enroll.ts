import { mkdir } from "node:fs/promises";
import type { Command } from "commander";
import { ENROLL_STEPS, EnrollmentError, enroll } from "../../sdk/enrollment/index.js";
import { CliError, EXIT_CODES, usageError } from "../exit-codes.js";
import { type MemberFlags, memberStore, trustFrom, withMemberOptions } from "../member-context.js";
import { type CliIo, outputFor, table, withJsonOption } from "../output.js";
import { createProgress } from "../progress.js";
import { readSecret } from "../secret-input.js";

/** `vettid enroll`: turns an invitation into a member with a vault. */
export function registerEnroll(program: Command, io: CliIo): void {
  withJsonOption(
    withMemberOptions(
      program
        .command("enroll")
        .summary("enroll with an invitation code: vault, credential and NATS credentials")
        .description(
          [
            "Enrolls a new member (enrollment.proto): opens a session with the backend, verifies the",
            "enclave's attestation, hashes your password with Argon2id on this machine and seals it",
            "to the enclave, stores the Protean Credential and NATS credentials in --home, and saves",
            "the trust settings (--pcr, --root) for later commands. Then run vettid unlock to set a PIN.",
            "The password is read from VETTID_PASSWORD, a hidden prompt, or the first line of stdin.",
          ].join("\n"),
        )
        .requiredOption(
          "--backend <url>",
          "the backend's base URL, e.g. https://api.vettid.dev (env VETTID_BACKEND)",
          io.env.VETTID_BACKEND,
        )
        .requiredOption("--invitation <code>", "the invitation code you received"),
      io,
    ),
  ).action(async (flags: MemberFlags & { backend: string; invitation: string }) => {
    const output = outputFor(io, flags);
    await mkdir(flags.home, { recursive: true, mode: 0o700 });
    const member = await memberStore(flags.home);
    if ((await member.ownerGuid()) !== undefined) {
      throw usageError(`${flags.home} already holds an enrolled member; use another --home`);
    }
    const trust = await trustFrom(flags, true);
    const password = await readSecret(io, "credential password: ", "VETTID_PASSWORD");
    const progress = createProgress(output, ENROLL_STEPS.length, "enrolling");
    let enrollment: Awaited<ReturnType<typeof enroll>>;
    try {
      enrollment = await enroll({
        baseUrl: flags.backend,
        invitationCode: flags.invitation,
        password,
        member,
        trust,
        onStep: (step) => progress.step(step),
      });
    } catch (error) {
      if (error instanceof EnrollmentError) {
        throw new CliError(
          error.message,
          EXIT_CODES.failed,
          error.attestationFailure === undefined ? "enrollment_failed" : "attestation_refused",
        );
      }
      throw error;
    } finally {
      progress.stop();
    }
    const result = {
      ownerGuid: enrollment.ownerGuid,
      cekVersion: enrollment.credential.cekVersion,
      natsServers: enrollment.natsCredentials.serverUrls,
      pinSetupRequired: enrollment.vault?.pinSetupRequired ?? true,
      home: flags.home,
    };
    output.result(result, () => [
      "enrolled",
      ...table([
        ["owner guid", result.ownerGuid],
        ["NATS", result.natsServers.join(", ")],
        ["stored in", flags.home],
      ]),
      "next: vettid unlock (sets your PIN)",
    ]);
  });
}
