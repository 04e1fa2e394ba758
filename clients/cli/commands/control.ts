import { writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { create, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import type { Command } from "commander";
import {
  type SignedPcrSetList,
  SignedPcrSetListSchema,
} from "../../../gen/vettid/attestation/v1/pcr_pb.js";
import {
  AllTokensSchema,
  AnnouncePcrUpdateSchema,
  type ControlCommandResult,
  ControlCommandResultSchema,
  ControlCommandSchema,
  ControlCommandStatus,
  DrainEnclaveSchema,
  EvictVaultSchema,
  ParentCredential,
  RejectionReason,
  RestartVaultSchema,
  RevocationReason,
  RevokeMemberTokensSchema,
  RotateParentCredentialsSchema,
  SignedControlCommandSchema,
  TokenIdsSchema,
} from "../../../gen/vettid/control/v1/command_pb.js";
import { Party } from "../../../gen/vettid/options/v1/options_pb.js";
import {
  buildControlCommand,
  type ControlAction,
  type ControlTargetSpec,
  controlCommandSubject,
  DEFAULT_CONTROL_COMMAND_TTL_MS,
  DEFAULT_CONTROL_RESULT_WAIT_MS,
  generateControlKeyPem,
  loadControlKey,
  publishControlCommand,
  signControlCommand,
} from "../../sdk/control/index.js";
import { CliError, EXIT_CODES, usageError } from "../exit-codes.js";
import { binaryOrBase64, collect, isoTimeArgument, readInput, secondsArgument } from "../inputs.js";
import { connectNats, defaultNatsUrl } from "../nats-connection.js";
import { type CliIo, outputFor, table, withJsonOption } from "../output.js";
import { createProgress } from "../progress.js";

/** Options every control command takes. */
interface ControlFlags {
  readonly server: string;
  readonly creds?: string;
  readonly key?: string;
  readonly keyId?: string;
  readonly issuer?: string;
  readonly reason?: string;
  readonly ttl?: string;
  readonly wait?: string;
  readonly expect?: string;
  readonly global?: boolean;
  readonly enclave?: string;
  readonly owner?: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

/** `vettid control …`: signed operator control commands, and their results. */
export function registerControl(program: Command, io: CliIo): void {
  const control = program
    .command("control")
    .summary("send signed operator control commands (operators)")
    .description(
      [
        "Builds a vettid.control.v1.ControlCommand, signs it with your Ed25519 control key",
        '(over "vettid-control-v1" || 0x00 || command), publishes it on Control.global.command,',
        "Control.enclave.{id}.command or Control.user.{guid}.command with your operator NATS",
        "credentials, then prints the results receivers report on Control.result.{command_id}.",
        "Exit 0 when at least one receiver answered and none rejected or failed it.",
      ].join("\n"),
    );

  withJsonOption(
    control
      .command("keygen")
      .summary("make a new Ed25519 control key")
      .description(
        "Writes a new Ed25519 control key (PKCS#8 PEM, mode 0600) and prints its public key for the receivers' pinned key set. The private key is never printed.",
      )
      .requiredOption("--out <file>", "where to write the private key (must not exist)"),
  ).action(async (flags: { out: string; json?: boolean }) => {
    const output = outputFor(io, flags);
    const { pem, publicKey } = generateControlKeyPem();
    try {
      await writeFile(flags.out, pem, { mode: 0o600, flag: "wx" });
    } catch (error) {
      throw usageError(`cannot create ${flags.out}: ${(error as Error).message}`);
    }
    const hex = Buffer.from(publicKey).toString("hex");
    const base64 = Buffer.from(publicKey).toString("base64");
    output.result({ keyFile: flags.out, publicKeyHex: hex, publicKeyBase64: base64 }, () => [
      `wrote ${flags.out} (mode 0600); pin this public key in the receivers' operator key set:`,
      ...table([
        ["hex", hex],
        ["base64", base64],
      ]),
    ]);
  });

  action(
    control,
    io,
    "evict-vault",
    "stop a member's vault-manager and wipe its keys from memory",
    (c) => c.requiredOption("--owner <guid>", "the member whose vault is evicted"),
    (flags) => ({
      action: {
        case: "evictVault",
        value: create(EvictVaultSchema, { ownerGuid: flags.owner ?? "" }),
      },
      defaultTarget: { kind: "user", ownerGuid: flags.owner ?? "" },
    }),
  );

  action(
    control,
    io,
    "restart-vault",
    "restart a member's vault-manager from its sealed snapshot",
    (c) => c.requiredOption("--owner <guid>", "the member whose vault is restarted"),
    (flags) => ({
      action: {
        case: "restartVault",
        value: create(RestartVaultSchema, { ownerGuid: flags.owner ?? "" }),
      },
      defaultTarget: { kind: "user", ownerGuid: flags.owner ?? "" },
    }),
  );

  action(
    control,
    io,
    "drain-enclave",
    "stop placing vaults on an enclave and move its vaults off",
    (c) =>
      c
        .option(
          "--deadline <iso-time>",
          "when every vault must be released (default: in 10 minutes)",
        )
        .option("--terminate", "shut the enclave down once drained"),
    (flags) => {
      const deadline =
        flags.deadline === undefined
          ? Date.now() + 10 * 60_000
          : isoTimeArgument(flags.deadline, "--deadline");
      return {
        action: {
          case: "drainEnclave",
          value: create(DrainEnclaveSchema, {
            deadlineAtMs: BigInt(deadline),
            terminateWhenDrained: flags.terminate === true,
          }),
        },
      };
    },
  );

  action(
    control,
    io,
    "rotate-parent-credentials",
    "make parents fetch new credentials and drop the old ones",
    (c) =>
      c
        .option("--nats", "rotate the parents' NATS user credentials")
        .option("--aws", "rotate the parents' AWS session")
        .option(
          "--retire-by <iso-time>",
          "when the old credentials must stop being used (default: now)",
        ),
    (flags) => {
      const credentials = [
        ...(flags.nats ? [ParentCredential.NATS_USER] : []),
        ...(flags.aws ? [ParentCredential.AWS_SESSION] : []),
      ];
      if (credentials.length === 0)
        throw usageError("say which credentials to rotate: --nats, --aws or both");
      return {
        action: {
          case: "rotateParentCredentials",
          value: create(RotateParentCredentialsSchema, {
            credentials,
            retireOldByMs:
              flags.retireBy === undefined
                ? 0n
                : BigInt(isoTimeArgument(flags.retireBy, "--retire-by")),
          }),
        },
      };
    },
  );

  const reasons: Record<string, RevocationReason> = {
    "device-lost": RevocationReason.DEVICE_LOST,
    compromised: RevocationReason.COMPROMISED,
    "member-request": RevocationReason.MEMBER_REQUEST,
    "account-closed": RevocationReason.ACCOUNT_CLOSED,
    policy: RevocationReason.POLICY,
  };
  action(
    control,
    io,
    "revoke-member-tokens",
    "stop honouring some or all of a member's NATS tokens",
    (c) =>
      c
        .requiredOption("--owner <guid>", "the member whose tokens are revoked")
        .option("--all", "every token issued until now")
        .option("--jwt-id <jti>", "one token's JWT id (repeat for several)", collect)
        .requiredOption("--revocation-reason <reason>", `why: ${Object.keys(reasons).join(", ")}`),
    (flags) => {
      const reason = reasons[flags.revocationReason ?? ""];
      if (reason === undefined)
        throw usageError(`--revocation-reason must be one of ${Object.keys(reasons).join(", ")}`);
      const ids = flags.jwtId ?? [];
      if ((flags.all === true) === ids.length > 0)
        throw usageError("give either --all or one or more --jwt-id");
      return {
        action: {
          case: "revokeMemberTokens",
          value: create(RevokeMemberTokensSchema, {
            ownerGuid: flags.owner ?? "",
            scope:
              flags.all === true
                ? { case: "all", value: create(AllTokensSchema) }
                : { case: "tokenIds", value: create(TokenIdsSchema, { jwtIds: ids }) },
            revocationReason: reason,
          }),
        },
        defaultTarget: { kind: "user", ownerGuid: flags.owner ?? "" },
      };
    },
  );

  action(
    control,
    io,
    "announce-pcr-update",
    "distribute a new operator-signed list of accepted enclave builds",
    (c) => c.requiredOption("--list <file>", "the SignedPcrSetList (protobuf binary or base64)"),
    async (flags) => {
      const bytes = binaryOrBase64(
        await readInput(flags.list ?? "", io, "PCR set list"),
        () => false,
        `--list ${flags.list}`,
      );
      let list: SignedPcrSetList;
      try {
        list = fromBinary(SignedPcrSetListSchema, bytes);
      } catch {
        throw usageError(`--list ${flags.list} is not a SignedPcrSetList`);
      }
      if (list.pcrSetList.length === 0 || list.signature.length !== 64) {
        throw usageError(`--list ${flags.list} has no list or no 64-byte signature`);
      }
      return {
        action: {
          case: "announcePcrUpdate",
          value: create(AnnouncePcrUpdateSchema, { pcrSetList: list }),
        },
      };
    },
  );
}

/** Flags of every action subcommand, all optional here (commander enforces the required ones). */
type ActionFlags = ControlFlags & {
  readonly deadline?: string;
  readonly terminate?: boolean;
  readonly nats?: boolean;
  readonly aws?: boolean;
  readonly retireBy?: string;
  readonly all?: boolean;
  readonly jwtId?: string[];
  readonly revocationReason?: string;
  readonly list?: string;
};

type BuildAction = (
  flags: ActionFlags,
) =>
  | { action: ControlAction; defaultTarget?: ControlTargetSpec }
  | Promise<{ action: ControlAction; defaultTarget?: ControlTargetSpec }>;

/** Adds one action subcommand with the options every control command shares. */
function action(
  control: Command,
  io: CliIo,
  name: string,
  summary: string,
  options: (command: Command) => Command,
  build: BuildAction,
): void {
  const command = options(
    control
      .command(name)
      .summary(summary)
      .description(`${summary[0]?.toUpperCase()}${summary.slice(1)}.`),
  );
  withJsonOption(sharedOptions(command, io)).action(async (flags: ActionFlags) => {
    await sendCommand(io, flags, await build(flags));
  });
}

function sharedOptions(command: Command, io: CliIo): Command {
  return command
    .option("--global", "send it to every enclave (Control.global.command)")
    .option("--enclave <id>", "send it to one enclave (Control.enclave.{id}.command)")
    .option(
      "--server <urls>",
      "NATS server URLs, comma-separated (env VETTID_NATS_URL)",
      defaultNatsUrl(io),
    )
    .option(
      "--creds <file>",
      "operator NATS credentials (.creds) (env VETTID_NATS_CREDS)",
      io.env.VETTID_NATS_CREDS,
    )
    .option(
      "--key <file>",
      "your Ed25519 control key, PKCS#8 PEM, mode 0600 (env VETTID_CONTROL_KEY)",
      io.env.VETTID_CONTROL_KEY,
    )
    .option(
      "--key-id <id>",
      "the id receivers pinned your key under (env VETTID_CONTROL_KEY_ID)",
      io.env.VETTID_CONTROL_KEY_ID,
    )
    .option(
      "--issuer <name>",
      "who you are, for audit logs (env VETTID_OPERATOR; default your login)",
      io.env.VETTID_OPERATOR,
    )
    .option("--reason <text>", "ticket or incident reference, for audit logs")
    .option(
      "--ttl <seconds>",
      `how long the command stays valid, at most 3600 (default ${DEFAULT_CONTROL_COMMAND_TTL_MS / 1000})`,
    )
    .option(
      "--wait <seconds>",
      `how long to collect results (default ${DEFAULT_CONTROL_RESULT_WAIT_MS / 1000})`,
    )
    .option("--expect <count>", "stop waiting once this many receivers answered")
    .option("--dry-run", "sign and print the command without publishing it");
}

function targetOf(flags: ControlFlags, fallback: ControlTargetSpec | undefined): ControlTargetSpec {
  const chosen = [flags.global === true, flags.enclave !== undefined].filter(Boolean).length;
  if (chosen > 1) throw usageError("give at most one of --global and --enclave");
  if (flags.global === true) return { kind: "global" };
  if (flags.enclave !== undefined) return { kind: "enclave", enclaveId: flags.enclave };
  if (fallback !== undefined) return fallback;
  throw usageError("say where the command goes: --global or --enclave <id>");
}

async function sendCommand(
  io: CliIo,
  flags: ActionFlags,
  built: { action: ControlAction; defaultTarget?: ControlTargetSpec },
): Promise<void> {
  const output = outputFor(io, flags);
  if (flags.key === undefined)
    throw usageError("give your control key with --key (or VETTID_CONTROL_KEY)");
  if (flags.keyId === undefined)
    throw usageError("give your key id with --key-id (or VETTID_CONTROL_KEY_ID)");
  const target = targetOf(flags, built.defaultTarget);
  const waitMs =
    flags.wait === undefined
      ? DEFAULT_CONTROL_RESULT_WAIT_MS
      : secondsArgument(flags.wait, "--wait");
  const expected = flags.expect === undefined ? undefined : Number(flags.expect);
  if (expected !== undefined && (!Number.isSafeInteger(expected) || expected < 1)) {
    throw usageError("--expect must be a positive whole number");
  }
  let key: Awaited<ReturnType<typeof loadControlKey>>;
  try {
    key = await loadControlKey(flags.key, flags.keyId);
  } catch (error) {
    throw usageError((error as Error).message);
  }
  let command: ReturnType<typeof buildControlCommand>;
  try {
    command = buildControlCommand({
      target,
      action: built.action,
      issuer: flags.issuer ?? loginName(),
      ...(flags.reason === undefined ? {} : { reason: flags.reason }),
      ...(flags.ttl === undefined ? {} : { ttlMs: secondsArgument(flags.ttl, "--ttl") }),
    });
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const signed = signControlCommand(command, key);
  const subject = controlCommandSubject(target);
  const summary = {
    commandId: command.commandId,
    action: command.action.case,
    subject,
    keyId: key.keyId,
    expiresAt: new Date(Number(command.expiresAtMs)).toISOString(),
  };
  if (flags.dryRun === true) {
    output.result(
      {
        ...summary,
        command: toJson(ControlCommandSchema, command),
        signedControlCommand: Buffer.from(toBinary(SignedControlCommandSchema, signed)).toString(
          "base64",
        ),
      },
      () => [
        `signed ${command.action.case} ${command.commandId} for ${subject} (not published: --dry-run)`,
        Buffer.from(toBinary(SignedControlCommandSchema, signed)).toString("base64"),
      ],
    );
    return;
  }

  const connection = await connectNats({
    servers: flags.server,
    name: `vettid control ${key.keyId}`,
    ...(flags.creds === undefined ? {} : { credsFile: flags.creds }),
  });
  const waitSeconds = Math.ceil(waitMs / 1000);
  const progress = createProgress(
    output,
    waitSeconds,
    `waiting for results of ${command.commandId}`,
  );
  const ticker = setInterval(() => progress.step(""), 1000);
  let results: ControlCommandResult[];
  try {
    output.note(`published ${command.action.case} ${command.commandId} on ${subject}`);
    results = await publishControlCommand(connection, signed, {
      target,
      commandId: command.commandId,
      waitMs,
      ...(expected === undefined ? {} : { expectedResults: expected }),
    });
  } finally {
    clearInterval(ticker);
    progress.stop();
    await connection.close();
  }
  const bad = results.filter(
    (r) => r.status === ControlCommandStatus.REJECTED || r.status === ControlCommandStatus.FAILED,
  );
  output.result(
    {
      ...summary,
      results: results.map((r) =>
        toJson(ControlCommandResultSchema, r, { alwaysEmitImplicit: true }),
      ),
    },
    () => [
      `${command.action.case} ${command.commandId} → ${subject}: ${results.length} result(s)`,
      ...results.map(describeResult),
    ],
  );
  if (results.length === 0) {
    throw new CliError(
      `no receiver answered within ${waitSeconds} s`,
      EXIT_CODES.failed,
      "no_results",
      { reported: output.json },
    );
  }
  if (bad.length > 0) {
    throw new CliError(
      `${bad.length} receiver(s) rejected or failed the command`,
      EXIT_CODES.failed,
      "rejected",
      { reported: true },
    );
  }
}

function describeResult(result: ControlCommandResult): string {
  const status = ControlCommandStatus[result.status] ?? String(result.status);
  const reason =
    result.status === ControlCommandStatus.REJECTED
      ? ` (${RejectionReason[result.rejectionReason]})`
      : "";
  const detail = result.detail === "" ? "" : `: ${result.detail}`;
  return `  ${result.executorId} [${(Party[result.executor] ?? "?").toLowerCase()}] ${status}${reason}${detail}`;
}

/** The login name, for `--issuer`'s default (containers may have no user database entry). */
function loginName(): string {
  try {
    return userInfo().username || "unknown-operator";
  } catch {
    return "unknown-operator";
  }
}
