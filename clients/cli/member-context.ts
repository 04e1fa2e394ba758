import { X509Certificate } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import type { Command } from "commander";
import type { NatsConnection } from "nats";
import { PcrSetSchema } from "../../gen/vettid/attestation/v1/pcr_pb.js";
import type { AttestationTrustStore } from "../sdk/attestation/index.js";
import { createMemberStore, type MemberStore } from "../sdk/member/index.js";
import {
  AttestationRefusedError,
  connectMember,
  openVaultSession,
  type VaultSession,
} from "../sdk/session/index.js";
import { createFileSecureStorage } from "../sdk/storage/index.js";
import { CliError, EXIT_CODES, usageError } from "./exit-codes.js";
import { collect, hexArgument } from "./inputs.js";
import { type CliIo, type Output, outputFor } from "./output.js";
import { createProgress, type Progress } from "./progress.js";

/** The member's home when neither `--home` nor `VETTID_HOME` says: `~/.vettid`. */
export function defaultHome(io: CliIo): string {
  return io.env.VETTID_HOME ?? join(homedir(), ".vettid");
}

/** Options of every member command (enroll, unlock, vault, secrets). */
export interface MemberFlags {
  readonly home: string;
  readonly server?: string;
  readonly pcr?: string[];
  readonly root?: string;
  readonly allowDebug?: boolean;
  readonly anyPcrs?: boolean;
  readonly json?: boolean;
}

/** Adds the member options: where the member's files are, and what to trust. */
export function withMemberOptions(command: Command, io: CliIo): Command {
  return command
    .option(
      "--home <dir>",
      "the member's directory: credential, keys, trust (env VETTID_HOME)",
      defaultHome(io),
    )
    .option("--server <urls>", "NATS server URLs instead of those enrollment gave, comma-separated")
    .option(
      "--pcr <index=hex>",
      "accept enclaves with this PCR (repeat for 0, 1 and 2; saved by enroll)",
      collect,
    )
    .option("--root <pem-file>", "also trust this dev NSM root (development only; saved by enroll)")
    .option("--allow-debug", "accept debug-mode enclaves (development only)")
    .option("--any-pcrs", "accept any enclave build (development only: trusts any code on Nitro)");
}

/** The trust settings kept in `<home>/trust.json` (public values only). */
interface TrustFile {
  devRootSha256?: string;
  allowDebug?: boolean;
  anyPcrs?: boolean;
  pcrs?: Record<string, string>;
}

/** The member's storage in `home` (a 0700 directory of 0600 files). */
export async function memberStore(home: string): Promise<MemberStore> {
  return createMemberStore(await createFileSecureStorage(join(home, "secure")));
}

/**
 * The trust store from the flags, else from `<home>/trust.json`; with `save`, the flags given are
 * written there for later commands.
 *
 * @throws CliError (usage) when no PCRs are configured and `--any-pcrs` is not given.
 */
export async function trustFrom(flags: MemberFlags, save = false): Promise<AttestationTrustStore> {
  const path = join(flags.home, "trust.json");
  let stored: TrustFile = {};
  try {
    stored = JSON.parse(await readFile(path, "utf8")) as TrustFile;
  } catch {
    stored = {};
  }
  const given: TrustFile = {};
  if (flags.root !== undefined) {
    let pem: Buffer;
    try {
      pem = await readFile(flags.root);
      given.devRootSha256 = new X509Certificate(pem).fingerprint256
        .replaceAll(":", "")
        .toLowerCase();
    } catch {
      throw usageError(`--root ${flags.root} is not a readable PEM certificate`);
    }
  }
  if (flags.allowDebug === true) given.allowDebug = true;
  if (flags.anyPcrs === true) given.anyPcrs = true;
  if (flags.pcr !== undefined) {
    given.pcrs = {};
    for (const entry of flags.pcr) {
      const match = /^(\d{1,2})=([0-9a-fA-F:]+)$/.exec(entry);
      if (match === null) throw usageError(`--pcr must be INDEX=HEX, got ${JSON.stringify(entry)}`);
      const value = hexArgument(match[2] as string, `--pcr ${match[1]}`);
      if (value.length !== 48)
        throw usageError(`--pcr ${match[1]} must be 48 bytes (96 hex digits)`);
      given.pcrs[match[1] as string] = Buffer.from(value).toString("hex");
    }
  }
  const trust: TrustFile = { ...stored, ...given };
  if (trust.pcrs !== undefined && trust.anyPcrs !== true) {
    for (const index of ["0", "1", "2"]) {
      if (trust.pcrs[index] === undefined) throw usageError(`--pcr must include PCR${index}`);
    }
  }
  if (trust.pcrs === undefined && trust.anyPcrs !== true) {
    throw usageError(
      "say which enclave builds to trust: --pcr 0=… --pcr 1=… --pcr 2=… (or --any-pcrs in development)",
    );
  }
  // Saved only once complete, so later commands never find half a configuration.
  if (save) await writeFile(path, `${JSON.stringify(trust, null, 2)}\n`, { mode: 0o600 });
  return {
    ...(trust.devRootSha256 === undefined
      ? {}
      : { devRootSha256: trust.devRootSha256, allowDevRoot: true }),
    allowDebug: trust.allowDebug === true,
    ...(trust.anyPcrs === true
      ? { allowAnyPcrs: true }
      : {
          pcrSets: [
            create(PcrSetSchema, {
              id: "configured",
              pcrs: Object.fromEntries(
                Object.entries(trust.pcrs ?? {}).map(([index, hex]) => [
                  Number(index),
                  new Uint8Array(Buffer.from(hex, "hex")),
                ]),
              ),
            }),
          ],
        }),
  };
}

/** An open vault session and what it needs closing. */
export interface MemberSession {
  readonly member: MemberStore;
  readonly session: VaultSession;
  close(): Promise<void>;
}

/**
 * Connects as the stored member and opens a vault session (attestation verified). Exit code 2 when
 * not enrolled, 3 when NATS cannot be reached, 1 when the attestation is refused.
 */
export async function openMemberSession(flags: MemberFlags, io: CliIo): Promise<MemberSession> {
  const output = outputFor(io, flags);
  const member = await memberStore(flags.home);
  if ((await member.ownerGuid()) === undefined) {
    throw usageError(
      `no member enrolled in ${flags.home}: run vettid enroll first (or give --home)`,
    );
  }
  const trust = await trustFrom(flags);
  let connection: NatsConnection;
  try {
    connection = await connectMember(member, {
      name: "vettid cli",
      ...(flags.server === undefined
        ? {}
        : { servers: flags.server.split(",").map((s) => s.trim()) }),
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "AUTHORIZATION_VIOLATION" || code === "AUTHENTICATION_EXPIRED") {
      throw new CliError(
        `NATS refused the member's credentials (${code}): they may have expired; refresh them or enroll again`,
        EXIT_CODES.failed,
        "nats_auth",
        { cause: error },
      );
    }
    throw new CliError(
      `cannot reach NATS: ${(error as Error).message}`,
      EXIT_CODES.unavailable,
      "nats_unavailable",
      { cause: error },
    );
  }
  try {
    const session = await openVaultSession({
      connection,
      member,
      trust,
      onHashProgress: hashProgress(output),
    });
    return { member, session, close: () => connection.close() };
  } catch (error) {
    await connection.close();
    if (error instanceof AttestationRefusedError) {
      throw new CliError(error.message, EXIT_CODES.failed, "attestation_refused", { cause: error });
    }
    throw error;
  }
}

/** A progress bar for password hashing (Argon2id takes a second or more), one per hash. */
function hashProgress(output: Output): (fraction: number) => void {
  let bar: Progress | undefined;
  let shown = 0;
  return (fraction) => {
    bar ??= createProgress(output, 100, "hashing the password (Argon2id)");
    const target = Math.min(100, Math.floor(fraction * 100));
    while (shown < target) {
      shown += 1;
      bar.step("");
    }
    if (fraction >= 1) {
      bar.stop();
      bar = undefined;
      shown = 0;
    }
  };
}
