/** Latency figures of one measurement, in microseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly meanUs: number;
  readonly maxUs: number;
}

/**
 * The value at quantile `q` (0..1) of an ascending array, by the nearest-rank method: the
 * smallest value with at least `q` of the samples at or below it.
 */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

/** Summarises latencies given in nanoseconds (the array is copied, not reordered). */
export function summarizeLatencies(latenciesNs: Float64Array): LatencySummary {
  const sorted = Float64Array.from(latenciesNs).sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    count: sorted.length,
    p50Us: quantile(sorted, 0.5) / 1_000,
    p99Us: quantile(sorted, 0.99) / 1_000,
    meanUs: sorted.length === 0 ? Number.NaN : sum / sorted.length / 1_000,
    maxUs: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number) / 1_000,
  };
}

/** Calls per second of `calls` completed in `elapsedNs`. */
export function callsPerSecond(calls: number, elapsedNs: bigint): number {
  return elapsedNs === 0n ? Number.NaN : (calls * 1e9) / Number(elapsedNs);
}
