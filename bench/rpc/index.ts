import type { Figures } from "../lib/report.js";
import { progress } from "../lib/report.js";
import { breakdownVariants, type CapturedHeaders, captureHeaders } from "./breakdown.js";
import { startEnvironment } from "./environment.js";
import { http2Variant } from "./http2.js";
import {
  FIRST_WARM_UP,
  LATER_WARM_UP,
  measureRound,
  type RoundResult,
  type RoundTiming,
} from "./measure-variant.js";
import { natsTransportVariant } from "./nats-transport.js";
import { rawNatsVariant } from "./raw-nats.js";
import { combineRounds, type VariantResult } from "./results.js";
import { sealedVariant } from "./sealed.js";
import { type BreakdownResult, rpcFigures, rpcReport } from "./summary.js";
import { isUnavailable, type UnavailableVariant, type Variant } from "./variant.js";

export interface RpcBenchOptions {
  /** Time spent measuring each figure, in seconds, split over the rounds. */
  readonly secondsPerFigure: number;
  /** Also measure "where the time goes" (about 17 s more). */
  readonly breakdown: boolean;
}

/** Payload sizes of the echo workload: a small message and a large one. */
export const PAYLOAD_SIZES = [256, 64 * 1024] as const;

/** Payload size of the "where the time goes" variants. */
const BREAKDOWN_SIZE = PAYLOAD_SIZES[0];

/**
 * Every figure is measured in this many rounds that take turns over the variants, so a slow
 * patch of the machine (a 2-core VM is noisy) hits every variant alike instead of one.
 */
export const ROUNDS = 5;

/** Count bounds of each figure (over all rounds); the time bound usually comes first. */
const SEQ_CALLS = 60_000;
const CONCURRENT_CALLS = 600_000;

/**
 * The variants measured, in order; the first is the baseline every ratio refers to. Adding a
 * variant is adding it here.
 */
async function variants(): Promise<(Variant | UnavailableVariant)[]> {
  return [
    rawNatsVariant(),
    natsTransportVariant({ key: "transport", label: "transport" }),
    http2Variant(),
    sealedVariant(),
  ];
}

interface Job {
  readonly variant: Variant;
  readonly sizes: readonly number[];
  /** Time bound of each figure over all rounds. */
  readonly figureMs: number;
  readonly rounds: Map<number, RoundResult[]>;
}

/**
 * The RPC part: one nats-server and one HTTP/2 server, the echo workload over each variant, and
 * the breakdown variants, in interleaved rounds. Prints the report and returns the figures.
 */
export async function runRpcBench(options: RpcBenchOptions): Promise<Figures> {
  const list = await variants();
  const figureMs = options.secondsPerFigure * 1_000;
  const job = (variant: Variant, sizes: readonly number[], ms: number): Job => ({
    variant,
    sizes,
    figureMs: ms,
    rounds: new Map(sizes.map((size) => [size, []])),
  });
  const jobs = list.flatMap((variant) =>
    isUnavailable(variant) ? [] : [job(variant, PAYLOAD_SIZES, figureMs)],
  );
  for (const variant of list) {
    if (isUnavailable(variant)) progress(`rpc: ${variant.key}: ${variant.unavailable}`);
  }

  progress("rpc: starting nats-server and the HTTP/2 server");
  const env = await startEnvironment();
  let captured: CapturedHeaders | undefined;
  const breakdownJobs: Job[] = [];
  try {
    if (options.breakdown) {
      captured = await captureHeaders(env);
      for (const variant of breakdownVariants(captured)) {
        breakdownJobs.push(job(variant, [BREAKDOWN_SIZE], figureMs / 2));
      }
      jobs.push(...breakdownJobs);
    }
    for (let round = 0; round < ROUNDS; round++) {
      progress(`rpc: round ${round + 1} of ${ROUNDS}`);
      for (const { variant, sizes, figureMs: ms, rounds } of jobs) {
        const timing: RoundTiming = {
          loopMs: ms / ROUNDS,
          seqCalls: Math.ceil(SEQ_CALLS / ROUNDS),
          concurrentCalls: Math.ceil(CONCURRENT_CALLS / ROUNDS),
          warmUp: round === 0 ? FIRST_WARM_UP : LATER_WARM_UP,
        };
        // A case that failed once is not run again: its figures are void anyway.
        const pending = sizes.filter((size) => !rounds.get(size)?.some((r) => "error" in r));
        if (pending.length === 0) continue;
        const measured = await measureRound(env, variant, pending, timing);
        for (const [size, result] of measured) rounds.get(size)?.push(result);
      }
    }
  } finally {
    await env.close();
  }

  const toResult = ({ variant, rounds }: Job): VariantResult => ({
    key: variant.key,
    label: variant.label,
    bySize: new Map([...rounds].map(([size, results]) => [size, combineRounds(results)])),
  });
  const results = list.map((variant) =>
    isUnavailable(variant) ? variant : toResult(jobs.find((j) => j.variant === variant) as Job),
  );
  const breakdown: BreakdownResult | undefined =
    captured === undefined
      ? undefined
      : { size: BREAKDOWN_SIZE, captured, variants: breakdownJobs.map(toResult) };
  process.stdout.write(`${rpcReport(results, PAYLOAD_SIZES, breakdown)}\n`);
  return rpcFigures(results, PAYLOAD_SIZES, breakdown);
}
