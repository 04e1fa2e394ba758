import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { create } from "@bufbuild/protobuf";
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { PcrSetSchema } from "../../../gen/vettid/attestation/v1/pcr_pb.js";
import { Choice } from "../../../gen/vettid/voting/v1/proposal_pb.js";
import type { AttestationTrustStore } from "../../sdk/attestation/index.js";
import { type TrustedKeys, toHex, trustKeys } from "../../sdk/voting/index.js";
import {
  auditVoteListParallel,
  type ParallelAuditReport,
  readFileShared,
} from "../../sdk/voting/node.js";
import { CliError, EXIT_CODES, usageError } from "../exit-codes.js";
import { collect, pcrArguments } from "../inputs.js";
import { type CliIo, outputFor, processIo, withJsonOption } from "../output.js";

interface VerifyVotesFlags {
  readonly orgKey?: string[];
  readonly pcr?: string[];
  readonly anyEnclaveBuild?: boolean;
  readonly root?: string;
  readonly allowDebug?: boolean;
  readonly workers?: string;
  readonly maxProblems?: string;
  readonly json?: boolean;
}

/**
 * `vettid verify-votes LIST`: the independent audit of a published vote list (JSON or binary, as
 * the backend publishes it). Recounts, and verifies every vote's voting signature and enclave
 * countersignature (strict Ed25519, small-order keys refused) across worker threads, the enclave
 * certificates' attestations, the org signatures of the proposal and the tree head, the order and
 * uniqueness of the entries and the Merkle root. Exit 0 when everything holds, 1 naming each
 * discrepancy otherwise, 2 for bad input.
 */
export function registerVerifyVotes(program: Command, io: CliIo = processIo()): void {
  withJsonOption(
    program
      .command("verify-votes")
      .summary("audit a published vote list: every signature, the counts and the Merkle root")
      .description(
        [
          "Verifies a published vote list (JSON or binary PublishedVoteList) end to end, in parallel:",
          "the org signatures of the proposal and of the signed tree head (--org-key, pinned), each",
          "vote's Ed25519 voting signature and enclave countersignature, the enclave certificates'",
          "attestation documents (--pcr for the accepted enclave build), the vote hashes, order and",
          "uniqueness, the recount and quorum against the signed head, and the RFC 9162 Merkle root.",
          "Exit 0 when all of it holds, 1 when anything does not (each discrepancy is named, a file that",
          "is not a vote list included), 2 for bad arguments or an unreadable file.",
        ].join("\n"),
      )
      .argument("<list>", "the vote list file (JSON, or binary protobuf)")
      .option(
        "--org-key <spki-file>",
        "a pinned org public key (PEM or DER SPKI); repeat for several",
        collect,
      )
      .option("--pcr <index=hex>", "the accepted enclave build: PCR0, 1 and 2 (repeat)", collect)
      .option(
        "--any-enclave-build",
        "do not check the enclaves' PCRs (the attestation chain still is)",
      )
      .option("--root <pem-file>", "also trust this dev root certificate (the dev NSM's)")
      .option("--allow-debug", "accept debug-mode enclaves (PCR0-2 all zeros)")
      .option("--workers <n>", "worker threads (default: the number of cores)")
      .option("--max-problems <n>", "problems to list at most (all are counted)", "50"),
  ).action(async (file: string, flags: VerifyVotesFlags) => {
    const output = outputFor(io, flags);
    const orgKeys = await readOrgKeys(flags.orgKey ?? []);
    const attestation = await attestationTrust(flags);
    const workers = positive(flags.workers ?? String(availableParallelism()), "--workers");
    const maxProblems = positive(flags.maxProblems ?? "50", "--max-problems");
    let bytes: Uint8Array;
    try {
      bytes = await readFileShared(file);
    } catch (error) {
      throw usageError(
        `cannot read vote list ${file}: ${(error as { code?: string }).code === "ENOENT" ? "no such file" : String((error as Error).message)}`,
      );
    }
    const started = process.hrtime.bigint();
    const progress = progressBar(io, output.json);
    let report: ParallelAuditReport;
    try {
      report = await auditVoteListParallel(bytes, {
        orgKeys,
        attestation,
        workers,
        maxProblems,
        onProgress: (checked, total) => progress.update(checked, total),
      });
    } finally {
      progress.stop();
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    output.result(jsonReport(report, seconds, workers), () =>
      humanReport(report, seconds, workers, flags),
    );
    if (!report.ok) {
      throw new CliError(
        `the vote list does not verify (${report.problemCount} problems)`,
        EXIT_CODES.failed,
        "not_verified",
        {
          reported: true,
        },
      );
    }
  });
}

async function readOrgKeys(files: readonly string[]): Promise<TrustedKeys> {
  if (files.length === 0)
    throw usageError(
      "--org-key is required: the pinned org public key the list must be signed with",
    );
  const spkis: Uint8Array[] = [];
  for (const path of files) {
    let content: Buffer;
    try {
      content = await readFile(path);
    } catch {
      throw usageError(`cannot read --org-key ${path}`);
    }
    const text = content.toString("latin1");
    const pem = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(text);
    spkis.push(
      new Uint8Array(
        pem === null ? content : Buffer.from((pem[1] as string).replace(/\s+/g, ""), "base64"),
      ),
    );
  }
  try {
    return trustKeys(spkis);
  } catch (error) {
    throw usageError(
      `--org-key: ${(error as Error).message} (a P-256 public key, PEM or DER SPKI)`,
    );
  }
}

async function attestationTrust(flags: VerifyVotesFlags): Promise<AttestationTrustStore> {
  let devRootSha256: string | undefined;
  if (flags.root !== undefined) {
    try {
      devRootSha256 = new X509Certificate(await readFile(flags.root)).fingerprint256
        .replaceAll(":", "")
        .toLowerCase();
    } catch {
      throw usageError(`--root ${flags.root} is not a readable PEM (or DER) certificate`);
    }
  }
  const pcrs = pcrArguments(flags.pcr);
  const given = Object.keys(pcrs).length > 0;
  if (!given && flags.anyEnclaveBuild !== true) {
    throw usageError(
      "give the accepted enclave build with --pcr 0=… --pcr 1=… --pcr 2=…, or --any-enclave-build",
    );
  }
  return {
    allowDebug: flags.allowDebug === true,
    ...(devRootSha256 === undefined ? {} : { devRootSha256, allowDevRoot: true }),
    ...(given
      ? { pcrSets: [create(PcrSetSchema, { id: "command-line", pcrs })] }
      : { allowAnyPcrs: true }),
  };
}

function positive(value: string, what: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < 1)
    throw usageError(`${what} must be a positive whole number, got ${JSON.stringify(value)}`);
  return number;
}

/** A cli-progress bar on stderr for people (a terminal, no --json); nothing otherwise. */
function progressBar(
  io: CliIo,
  json: boolean,
): { update(done: number, total: number): void; stop(): void } {
  if (json || io.stderr.isTTY !== true) return { update() {}, stop() {} };
  const bar = new SingleBar({
    format: "verifying votes [{bar}] {percentage}% {value}/{total} entries, {eta_formatted} left",
    stream: io.stderr,
    hideCursor: true,
    etaBuffer: 50,
  });
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

function countsOf(report: ParallelAuditReport) {
  return report.counts.map((c) => ({
    choice: Choice[c.choice] ?? String(c.choice),
    count: Number(c.count),
  }));
}

function jsonReport(report: ParallelAuditReport, seconds: number, workers: number) {
  return {
    verified: report.ok,
    proposalId: report.proposalId,
    proposalNumber: report.proposal?.proposalNumber ?? null,
    format: report.format,
    entries: report.entries,
    validEntries: report.validEntries,
    counts: countsOf(report),
    merkleRoot: toHex(report.merkleRoot),
    quorumMet: report.quorumMet ?? null,
    problemCount: report.problemCount,
    problems: report.problems,
    seconds: Math.round(seconds * 10) / 10,
    workers,
  };
}

function humanReport(
  report: ParallelAuditReport,
  seconds: number,
  workers: number,
  flags: VerifyVotesFlags,
): string[] {
  const grouped = new Intl.NumberFormat("en-US");
  const lines = [
    `vote list of proposal ${report.proposalId}${report.proposal === undefined ? "" : ` (${report.proposal.proposalNumber} "${report.proposal.title}")`}, ${report.format}`,
    `entries:     ${grouped.format(report.entries)} (${grouped.format(report.validEntries)} valid)`,
    `recount:     ${countsOf(report)
      .map((c) => `${c.choice} ${grouped.format(c.count)}`)
      .join(" · ")}`,
    `merkle root: ${toHex(report.merkleRoot)}`,
    `quorum:      ${report.quorumMet === undefined ? "not evaluated" : report.quorumMet ? "met" : "not met"}`,
    `signatures:  ${grouped.format(report.entries * 2)} Ed25519 (voting + enclave) checked in ${seconds.toFixed(1)} s with ${workers} worker${workers === 1 ? "" : "s"}`,
  ];
  if (flags.pcr === undefined || flags.pcr.length === 0)
    lines.push("enclave builds: not checked (--any-enclave-build)");
  if (report.ok) {
    lines.push(
      "result:      VERIFIED: every signature, the counts and the Merkle root match the signed head",
    );
  } else {
    lines.push(
      `result:      NOT VERIFIED: ${report.problemCount} problem${report.problemCount === 1 ? "" : "s"}`,
    );
    for (const problem of report.problems) lines.push(`  - ${problem}`);
    if (report.problemCount > report.problems.length) {
      lines.push(`  … and ${report.problemCount - report.problems.length} more (--max-problems)`);
    }
  }
  return lines;
}
