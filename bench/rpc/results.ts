import { type Measurement, pool } from "../lib/measure.js";
import { callsPerSecond, quantile } from "../lib/stats.js";
import type { RoundResult } from "./measure-variant.js";

/** What one variant measured for one payload size, over all rounds. */
export interface CaseResult {
  /** One call at a time: latency and calls/s, every round's calls pooled. */
  readonly seq?: Measurement;
  /** 100 calls in flight: calls/s, every round's calls pooled. */
  readonly concurrent?: Measurement;
  /** Sequential p50 of each round, in µs, in round order (to see how much rounds differ). */
  readonly roundSeqP50Us: readonly number[];
  /** Concurrent calls/s of each round, in round order. */
  readonly roundConcurrentCps: readonly number[];
  /** Why this case has no figures: the first failure of any round. */
  readonly error?: string;
}

/** Pools the rounds of one case; any failed round fails the case. */
export function combineRounds(rounds: readonly RoundResult[]): CaseResult {
  const failed = rounds.find((round) => "error" in round);
  if (failed !== undefined && "error" in failed) {
    return { error: failed.error, roundSeqP50Us: [], roundConcurrentCps: [] };
  }
  const measured = rounds.filter((round) => "seq" in round);
  return {
    seq: pool(measured.map((round) => round.seq)),
    concurrent: pool(measured.map((round) => round.concurrent)),
    roundSeqP50Us: measured.map(
      (round) => quantile(Float64Array.from(round.seq.latenciesNs).sort(), 0.5) / 1_000,
    ),
    roundConcurrentCps: measured.map((round) =>
      callsPerSecond(round.concurrent.calls, round.concurrent.elapsedNs),
    ),
  };
}

/** A variant's results per payload size, or why it did not run. */
export interface VariantResult {
  readonly key: string;
  readonly label: string;
  readonly bySize?: ReadonlyMap<number, CaseResult>;
  readonly unavailable?: string;
}
