import type { BenchEnvironment } from "./environment.js";

/**
 * One way of carrying the echo workload (raw NATS, the transport, HTTP/2, the sealed transport):
 * the benchmark runs the same measurements over each variant in its list.
 */
export interface Variant {
  /** Prefix of this variant's figures in the JSON line, e.g. `transport` → `transport_c100_256_cps`. */
  readonly key: string;
  /** Name in the human-readable report. */
  readonly label: string;
  /** Connects and serves (on the shared servers of `env`); the caller closes what it returns. */
  open(env: BenchEnvironment): Promise<OpenVariant>;
}

/** A variant ready to carry calls. */
export interface OpenVariant {
  /** Sends `payload` to the echo service and resolves once the same number of bytes came back. */
  echo(payload: Uint8Array): Promise<void>;
  /** Stops serving and closes the connections it opened. */
  close(): Promise<void>;
}

/** A variant the benchmark knows of but cannot run in this build, and why. */
export interface UnavailableVariant {
  readonly key: string;
  readonly label: string;
  readonly unavailable: string;
}

export function isUnavailable(
  variant: Variant | UnavailableVariant,
): variant is UnavailableVariant {
  return "unavailable" in variant;
}

/** Deadline of one benchmark call: far above any latency we expect, so a lost call fails loudly. */
export const CALL_TIMEOUT_MS = 10_000;

/** Throws unless the echo came back whole: a benchmark of calls that silently fail is worthless. */
export function expectEcho(received: number, sent: number): void {
  if (received !== sent) {
    throw new Error(`echo returned ${received} bytes for ${sent} sent`);
  }
}
