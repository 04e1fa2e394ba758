import { randomBytes } from "node:crypto";
import { type LoopBounds, type LoopSample, runLoop } from "../lib/measure.js";
import { formatBytes, progress } from "../lib/report.js";
import type { BenchEnvironment } from "./environment.js";
import type { Variant } from "./variant.js";

/** Calls in flight in the concurrent loop. */
export const CONCURRENCY = 100;

/** What one round of one variant gave for one payload size. */
export type RoundResult =
  | { readonly seq: LoopSample; readonly concurrent: LoopSample }
  | { readonly error: string };

/** Bounds of one round; every loop stops at its count or its time, whichever comes first. */
export interface RoundTiming {
  /** Time bound of each measured loop. */
  readonly loopMs: number;
  /** Count bound of the sequential loop. */
  readonly seqCalls: number;
  /** Count bound of the concurrent loop. */
  readonly concurrentCalls: number;
  /** The warm-up loops run before measuring each payload size. */
  readonly warmUp: { readonly seq: LoopBounds; readonly concurrent: LoopBounds };
}

/** Warm-up of a variant's first round: JIT, connection buffers, lazily built state. */
export const FIRST_WARM_UP = {
  seq: { concurrency: 1, maxCalls: 1_000, maxMs: 300 },
  concurrent: { concurrency: CONCURRENCY, maxCalls: 10_000, maxMs: 500 },
} as const;

/** Warm-up of later rounds: the code is hot already; only the new connections need it. */
export const LATER_WARM_UP = {
  seq: { concurrency: 1, maxCalls: 100, maxMs: 30 },
  concurrent: { concurrency: CONCURRENCY, maxCalls: 1_000, maxMs: 100 },
} as const;

const payloads = new Map<number, Uint8Array>();

/** The payload of `size` random bytes, the same object for every variant. */
export function payloadOf(size: number): Uint8Array {
  let payload = payloads.get(size);
  if (payload === undefined) {
    payload = new Uint8Array(randomBytes(size));
    payloads.set(size, payload);
  }
  return payload;
}

/**
 * One round of one variant: opens it, then for each payload size warms it up and measures it
 * sequentially and with {@link CONCURRENCY} calls in flight; closes it whatever happens. A failure
 * is recorded for the sizes it affects rather than ending the run.
 */
export async function measureRound(
  env: BenchEnvironment,
  variant: Variant,
  sizes: readonly number[],
  timing: RoundTiming,
): Promise<Map<number, RoundResult>> {
  const results = new Map<number, RoundResult>();
  let open: Awaited<ReturnType<Variant["open"]>>;
  try {
    open = await variant.open(env);
  } catch (error) {
    progress(`  ${variant.label}: FAILED to open: ${describe(error)}`);
    for (const size of sizes) results.set(size, { error: describe(error) });
    return results;
  }
  try {
    for (const size of sizes) {
      const payload = payloadOf(size);
      const call = () => open.echo(payload);
      const name = `${variant.label} ${formatBytes(size)}`;
      try {
        progress(`  ${name}`);
        await runLoop(call, timing.warmUp.seq);
        await runLoop(call, timing.warmUp.concurrent);
        const seq = await runLoop(call, {
          concurrency: 1,
          maxCalls: timing.seqCalls,
          maxMs: timing.loopMs,
        });
        const concurrent = await runLoop(call, {
          concurrency: CONCURRENCY,
          maxCalls: timing.concurrentCalls,
          maxMs: timing.loopMs,
        });
        results.set(size, { seq, concurrent });
      } catch (error) {
        progress(`  ${name}: FAILED: ${describe(error)}`);
        results.set(size, { error: describe(error) });
      }
    }
  } finally {
    await open.close().catch((error: unknown) => {
      progress(`  ${variant.label}: closing failed: ${describe(error)}`);
    });
  }
  return results;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
