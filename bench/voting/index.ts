/**
 * The voting part of the benchmarks: votes cast per second through the whole path (member →
 * sealed CastVote over NATS → the vault in the enclave → batch → intake → dynalite → outcome back
 * in the vault; `vault-path.ts`), the same signing and intake work in one process without NATS or
 * the vault's storage (`cast-path.ts`, its ceiling), publication of a million-vote list
 * (sort, counts, RFC 9162 root, signed head, binary and JSON files written), and the full
 * verification of that list (every signature, the attestation, the root, the counts) with worker
 * threads — with ratios to single-core Ed25519 baselines (node:crypto and noble) measured in the
 * same run. The goal: a million-vote list verified end to end in under two minutes on 2 cores.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import {
  createMerkleRootBuilder,
  encodeVoteListBinary,
  encodeVoteListJson,
  leafHash,
  verifySignedProposal,
} from "../../clients/sdk/voting/index.js";
import {
  auditVoteListParallel,
  nodeSha256,
  readFileShared,
} from "../../clients/sdk/voting/node.js";
import { createFilesystemBlobStore } from "../../enclave/storage/index.js";
import { buildPublishedVoteList } from "../../server/voting/index.js";
import {
  type Figures,
  figure,
  formatCount,
  formatRatio,
  heading,
  progress,
  ratio,
  table,
} from "../lib/report.js";
import { measureEd25519Baselines } from "./baselines.js";
import { benchData, benchVoteCount } from "./bench-data.js";
import { measureCastPath } from "./cast-path.js";
import { measureVaultPath } from "./vault-path.js";

/** Options of {@link runVotingBench}, as `bench/main.ts` passes them. */
export interface VotingBenchOptions {
  /** Time spent measuring each rate (baselines, cast path), in seconds. */
  readonly secondsPerFigure: number;
  /** Also split the cast path's time between the vault, the intake's checks and the store. */
  readonly breakdown: boolean;
}

/** The goal for verifying a million-vote list end to end, in seconds. */
export const VERIFY_1M_GOAL_S = 120;

const MILLION = 1_000_000;

/** Runs the voting part, prints its report, returns its figures. */
export async function runVotingBench(options: VotingBenchOptions): Promise<Figures> {
  const cores = availableParallelism();
  progress("voting: Ed25519 baselines (one core)");
  const baselines = measureEd25519Baselines(Math.min(options.secondsPerFigure, 3));
  const cast = await measureCastPath(options.secondsPerFigure, options.breakdown);
  const whole = await measureVaultPath(options.secondsPerFigure);

  const count = benchVoteCount();
  const data = await benchData(count);
  const scale = MILLION / count;
  const directory = await mkdtemp(join(tmpdir(), "vettid-bench-lists-"));
  try {
    progress(`voting: loading ${formatCount(count)} votes`);
    let votes: Awaited<ReturnType<typeof data.loadVotes>> | undefined = await data.loadVotes();
    const verified = verifySignedProposal(data.signedProposal, data.orgKeys);
    if (!verified.ok) throw new Error(verified.problem);

    progress("voting: publishing the list (build, root, signed head, binary and JSON files)");
    const blobs = createFilesystemBlobStore({ directory, maxObjectBytes: 2 ** 32 - 1 });
    const publishStart = process.hrtime.bigint();
    let list: Awaited<ReturnType<typeof buildPublishedVoteList>> | undefined =
      await buildPublishedVoteList({
        signedProposal: data.signedProposal,
        proposal: verified.payload,
        proposalHash: verified.proposalHash,
        votes,
        certificates: [data.certificate],
        eligibleMemberCount: count * 2,
        closedAtMs: Number(verified.payload.closesAtMs),
        publishedAtMs: Number(verified.payload.closesAtMs) + 20 * 60_000,
        signer: data.orgSigner,
      });
    const built = process.hrtime.bigint();
    const binary = encodeVoteListBinary(list);
    let json: Uint8Array | undefined = encodeVoteListJson(list);
    const encoded = process.hrtime.bigint();
    await blobs.put("vote-lists/bench.binpb", binary, { mode: "overwrite" });
    await blobs.put("vote-lists/bench.json", json, { mode: "overwrite" });
    const publishEnd = process.hrtime.bigint();
    const publishS = Number(publishEnd - publishStart) / 1e9;

    // The Merkle root alone, over the published order.
    const rootStart = process.hrtime.bigint();
    const builder = createMerkleRootBuilder(nodeSha256);
    for (const entry of list.entries) builder.append(leafHash(entry.voteHash, nodeSha256));
    builder.root();
    const rootS = Number(process.hrtime.bigint() - rootStart) / 1e9;
    const jsonPath = join(directory, "list.json");
    await writeFile(jsonPath, json);
    const jsonBytes = json.length;
    const binaryBytes = binary.length;
    json = undefined;
    list = undefined;
    votes = undefined;

    progress(
      `voting: verifying the ${formatCount(count)}-vote JSON list with ${cores} worker threads`,
    );
    const verifyStart = process.hrtime.bigint();
    const cpuStart = process.cpuUsage();
    let lastShown = 0;
    const report = await auditVoteListParallel(await readFileShared(jsonPath), {
      orgKeys: data.orgKeys,
      attestation: data.attestation,
      workers: cores,
      onProgress: (checked, total) => {
        if (checked - lastShown >= total / 10 || checked === total) {
          lastShown = checked;
          progress(`voting: verified ${formatCount(checked)} of ${formatCount(total)}`);
        }
      },
    });
    const verifyS = Number(process.hrtime.bigint() - verifyStart) / 1e9;
    const cpu = process.cpuUsage(cpuStart);
    const verifyCpuS = (cpu.user + cpu.system) / 1e6;
    if (!report.ok)
      throw new Error(`the bench list did not verify: ${report.problems.slice(0, 3).join("; ")}`);

    const signaturesPerSecond = (2 * count) / verifyS;
    const verify1mS = verifyS * scale;
    // The floor: two Ed25519 verifications per vote at the single-core baseline on every core.
    const floor1mS = (2 * MILLION) / (cores * baselines.nodePerSecond);
    const figures: Figures = {
      votes_cast_per_s: figure(whole.votesPerSecond),
      votes_cast_ms_per_vote: figure(whole.castMsPerVote, 1),
      votes_submit_ms_per_vote: figure(whole.submitMsPerVote, 2),
      votes_signed_in_process_per_s: figure(cast.votesPerSecond),
      votes_cast_ratio_in_process: figure(ratio(whole.votesPerSecond, cast.votesPerSecond), 3),
      publish_1m_s: figure(publishS * scale, 1),
      verify_1m_s: figure(verify1mS, 1),
      verify_1m_goal_met: verify1mS < VERIFY_1M_GOAL_S,
      verify_1m_cpu_s: figure(verifyCpuS * scale, 1),
      verify_1m_signature_floor_s: figure(floor1mS, 1),
      voting_list_votes: count,
      voting_extrapolated_to_1m: count !== MILLION,
      merkle_root_1m_s: figure(rootS * scale, 2),
      verify_signatures_per_s: figure(signaturesPerSecond),
      verify_ratio_node_core: figure(ratio(signaturesPerSecond, baselines.nodePerSecond), 2),
      verify_ratio_noble_core: figure(ratio(signaturesPerSecond, baselines.noblePerSecond), 1),
      ed25519_node_verify_per_s: figure(baselines.nodePerSecond),
      ed25519_noble_verify_per_s: figure(baselines.noblePerSecond),
      voting_cores: cores,
      vote_list_json_bytes_per_vote: figure(jsonBytes / count),
      vote_list_binary_bytes_per_vote: figure(binaryBytes / count),
      cast_vault_us_per_vote: figure(cast.castUsPerVote),
      cast_intake_us_per_vote: figure(cast.intakeUsPerVote),
      ...(cast.storeUsPerVote === undefined
        ? {}
        : { cast_store_us_per_vote: figure(cast.storeUsPerVote) }),
      ...(data.generatedSeconds > 0 ? { voting_generate_s: figure(data.generatedSeconds, 1) } : {}),
    };
    process.stdout.write(
      `${[
        heading("voting"),
        `${formatCount(count)} votes${count !== MILLION ? ` (${"VETTID_BENCH_VOTES"}; 1M figures extrapolated linearly)` : ""}, ${cores} cores`,
        "",
        table(
          ["figure", "value", "vs node:crypto 1 core", "vs noble 1 core"],
          [
            [
              "Ed25519 verify, node:crypto, 1 core",
              `${formatCount(baselines.nodePerSecond)}/s`,
              "1.00×",
              formatRatio(ratio(baselines.nodePerSecond, baselines.noblePerSecond)),
            ],
            [
              "Ed25519 verify, noble strict, 1 core",
              `${formatCount(baselines.noblePerSecond)}/s`,
              formatRatio(ratio(baselines.noblePerSecond, baselines.nodePerSecond)),
              "1.00×",
            ],
            [
              "votes cast, whole path (app → vault → batch → intake → dynalite)",
              `${formatCount(whole.votesPerSecond)}/s`,
              "",
              "",
            ],
            [
              "  the same signing and intake in one process (ceiling)",
              `${formatCount(cast.votesPerSecond)}/s`,
              "",
              "",
            ],
            [
              "publish a 1M list (build, root, head, files)",
              `${publishS.toFixed(1)} s${scale === 1 ? "" : ` → ${(publishS * scale).toFixed(1)} s`}`,
              "",
              "",
            ],
            ["  of which the Merkle root", `${(rootS * scale).toFixed(2)} s`, "", ""],
            [
              "verify a 1M list end to end",
              `${verify1mS.toFixed(1)} s (goal < ${VERIFY_1M_GOAL_S} s: ${verify1mS < VERIFY_1M_GOAL_S ? "met" : "NOT met"})`,
              "",
              "",
            ],
            [
              "  signatures verified",
              `${formatCount(signaturesPerSecond)}/s`,
              formatRatio(ratio(signaturesPerSecond, baselines.nodePerSecond)),
              formatRatio(ratio(signaturesPerSecond, baselines.noblePerSecond)),
            ],
          ],
        ),
        "",
        `whole path per vote: a member's cast ${whole.castMsPerVote.toFixed(1)} ms (16 members at once), batch and outcomes ${whole.submitMsPerVote.toFixed(2)} ms`,
        `in-process path per vote: vault ${cast.castUsPerVote.toFixed(0)} µs, intake ${cast.intakeUsPerVote.toFixed(0)} µs${cast.storeUsPerVote === undefined ? "" : ` (of which the store ${cast.storeUsPerVote.toFixed(0)} µs)`}`,
        `list size per vote: JSON ${(jsonBytes / count).toFixed(0)} B, binary ${(binaryBytes / count).toFixed(0)} B; built in ${(Number(built - publishStart) / 1e9).toFixed(1)} s, encoded in ${(Number(encoded - built) / 1e9).toFixed(1)} s, written in ${(Number(publishEnd - encoded) / 1e9).toFixed(1)} s`,
      ].join("\n")}\n`,
    );
    return figures;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
