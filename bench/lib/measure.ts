import { callsPerSecond, type LatencySummary, summarizeLatencies } from "./stats.js";

/** One call of a workload; resolves once its answer has arrived and been checked. */
export type Call = () => Promise<void>;

/** How long a loop may run: it stops at whichever bound it reaches first. */
export interface LoopBounds {
  /** Calls kept in flight at once (1: sequential). */
  readonly concurrency: number;
  /** Most calls to start. */
  readonly maxCalls: number;
  /** No call is started after this many milliseconds; calls in flight then still finish. */
  readonly maxMs: number;
}

/** What one loop recorded. */
export interface LoopSample {
  readonly calls: number;
  readonly elapsedNs: bigint;
  /** Latency of each finished call, in nanoseconds. */
  readonly latenciesNs: Float64Array;
}

/** Figures of one or more loops of the same case, pooled. */
export interface Measurement {
  readonly calls: number;
  readonly elapsedNs: bigint;
  readonly callsPerSecond: number;
  readonly latency: LatencySummary;
}

/**
 * Runs `call` with `concurrency` calls in flight until `maxCalls` have started or `maxMs` have
 * passed, timing each call with `process.hrtime.bigint()`. Throughput counts every call that
 * finished over the whole run, including those that were still in flight at the time bound.
 */
export async function runLoop(call: Call, bounds: LoopBounds): Promise<LoopSample> {
  const latenciesNs = new Float64Array(bounds.maxCalls);
  let started = 0;
  let finished = 0;
  const startNs = process.hrtime.bigint();
  const deadlineNs = startNs + BigInt(Math.round(bounds.maxMs * 1e6));
  const worker = async () => {
    while (started < bounds.maxCalls) {
      const callStartNs = process.hrtime.bigint();
      if (callStartNs >= deadlineNs) return;
      started++;
      await call();
      latenciesNs[finished++] = Number(process.hrtime.bigint() - callStartNs);
    }
  };
  await Promise.all(Array.from({ length: bounds.concurrency }, worker));
  return {
    calls: finished,
    elapsedNs: process.hrtime.bigint() - startNs,
    latenciesNs: latenciesNs.subarray(0, finished),
  };
}

/** Pools loops of one case (e.g. several rounds): all their calls over all their time. */
export function pool(samples: readonly LoopSample[]): Measurement {
  let calls = 0;
  let elapsedNs = 0n;
  const latenciesNs = new Float64Array(samples.reduce((n, s) => n + s.latenciesNs.length, 0));
  let offset = 0;
  for (const sample of samples) {
    calls += sample.calls;
    elapsedNs += sample.elapsedNs;
    latenciesNs.set(sample.latenciesNs, offset);
    offset += sample.latenciesNs.length;
  }
  return {
    calls,
    elapsedNs,
    callsPerSecond: callsPerSecond(calls, elapsedNs),
    latency: summarizeLatencies(latenciesNs),
  };
}
