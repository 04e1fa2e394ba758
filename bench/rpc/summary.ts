import type { Measurement } from "../lib/measure.js";
import {
  type Figures,
  figure,
  formatBytes,
  formatCount,
  formatMicros,
  formatRatio,
  heading,
  ratio,
  table,
} from "../lib/report.js";
import { type CapturedHeaders, headerBytes } from "./breakdown.js";
import { CONCURRENCY } from "./measure-variant.js";
import type { CaseResult, VariantResult } from "./results.js";

/** Every figure is compared with this variant's, for the same payload and concurrency. */
export const BASELINE_KEY = "raw_nats";
const BASELINE_LABEL = "raw NATS";

/** The "where the time goes" measurements (256 B) and the headers they reproduce. */
export interface BreakdownResult {
  readonly size: number;
  readonly captured: CapturedHeaders;
  readonly variants: readonly VariantResult[];
}

const c = `c${CONCURRENCY}`;

/** The human-readable report: one table per payload size, headline lines, the breakdown. */
export function rpcReport(
  results: readonly VariantResult[],
  sizes: readonly number[],
  breakdown: BreakdownResult | undefined,
): string {
  const out: string[] = [];
  const baseline = results.find((result) => result.key === BASELINE_KEY);
  for (const size of sizes) {
    const base = baseline?.bySize?.get(size);
    out.push(
      heading(`RPC echo, ${formatBytes(size)} payload (× = ratio to ${BASELINE_LABEL})`),
      table(
        ["variant", "seq p50", "×", "seq p99", "×", "seq calls/s", "×", `${c} calls/s`, "×"],
        results.map((result) => caseRow(result, size, base)),
      ),
    );
  }
  out.push(heading("Summary"));
  for (const result of results) {
    if (result.key === BASELINE_KEY) continue;
    if (result.unavailable !== undefined) {
      out.push(`${result.key}: ${result.unavailable}`);
      continue;
    }
    for (const size of sizes) out.push(...headlines(result, size, baseline?.bySize?.get(size)));
  }
  if (breakdown !== undefined) {
    out.push(...whereTheTimeGoes(results, breakdown, baseline?.bySize?.get(breakdown.size)));
  }
  return out.join("\n");
}

/** The JSON figures of the RPC part. */
export function rpcFigures(
  results: readonly VariantResult[],
  sizes: readonly number[],
  breakdown: BreakdownResult | undefined,
): Figures {
  const figures: Figures = {};
  const find = (key: string, size: number) =>
    results.find((result) => result.key === key)?.bySize?.get(size);
  const headlineSize = sizes[0] ?? 256;
  const base = find(BASELINE_KEY, headlineSize);
  const transport = find("transport", headlineSize);
  figures.rpc_throughput_ratio_c100 = figure(
    ratio(transport?.concurrent?.callsPerSecond, base?.concurrent?.callsPerSecond),
    3,
  );
  figures.rpc_latency_ratio_seq = figure(
    ratio(transport?.seq?.latency.p50Us, base?.seq?.latency.p50Us),
    3,
  );
  // How far single rounds strayed from the pooled ratios: the noise of this run.
  const throughputRounds = roundRatios(transport?.roundConcurrentCps, base?.roundConcurrentCps);
  const latencyRounds = roundRatios(transport?.roundSeqP50Us, base?.roundSeqP50Us);
  figures.rpc_throughput_ratio_c100_min_round = figure(minOf(throughputRounds), 3);
  figures.rpc_throughput_ratio_c100_max_round = figure(maxOf(throughputRounds), 3);
  figures.rpc_latency_ratio_seq_min_round = figure(minOf(latencyRounds), 3);
  figures.rpc_latency_ratio_seq_max_round = figure(maxOf(latencyRounds), 3);
  figures.transport_vs_http2_throughput_ratio_c100 = figure(
    ratio(
      transport?.concurrent?.callsPerSecond,
      find("http2", headlineSize)?.concurrent?.callsPerSecond,
    ),
    3,
  );
  // The price of sealing, once the sealed variant runs.
  const sealed = find("sealed", headlineSize);
  if (sealed !== undefined) {
    figures.sealed_vs_transport_throughput_ratio_c100 = figure(
      ratio(sealed.concurrent?.callsPerSecond, transport?.concurrent?.callsPerSecond),
      3,
    );
    figures.sealed_vs_transport_latency_ratio_seq = figure(
      ratio(sealed.seq?.latency.p50Us, transport?.seq?.latency.p50Us),
      3,
    );
  }
  const add = (result: VariantResult, size: number) => {
    const measured = result.bySize?.get(size);
    const baseCase = find(BASELINE_KEY, size);
    const prefix = result.key;
    figures[`${prefix}_seq_${size}_p50_us`] = figure(measured?.seq?.latency.p50Us, 1);
    figures[`${prefix}_seq_${size}_p99_us`] = figure(measured?.seq?.latency.p99Us, 1);
    figures[`${prefix}_seq_${size}_cps`] = figure(measured?.seq?.callsPerSecond);
    figures[`${prefix}_${c}_${size}_cps`] = figure(measured?.concurrent?.callsPerSecond);
    if (prefix !== BASELINE_KEY) {
      figures[`${prefix}_throughput_ratio_${c}_${size}`] = figure(
        ratio(measured?.concurrent?.callsPerSecond, baseCase?.concurrent?.callsPerSecond),
        3,
      );
      figures[`${prefix}_latency_ratio_seq_${size}`] = figure(
        ratio(measured?.seq?.latency.p50Us, baseCase?.seq?.latency.p50Us),
        3,
      );
    }
  };
  for (const result of results) {
    if (result.unavailable !== undefined) {
      figures[`${result.key}_available`] = false;
      continue;
    }
    for (const size of sizes) add(result, size);
  }
  if (breakdown !== undefined) {
    figures.transport_request_header_bytes = headerBytes(breakdown.captured.request);
    figures.transport_reply_header_bytes = headerBytes(breakdown.captured.response);
    for (const result of breakdown.variants) add(result, breakdown.size);
  }
  return figures;
}

function caseRow(result: VariantResult, size: number, base: CaseResult | undefined): string[] {
  if (result.unavailable !== undefined) {
    return [`${result.key}: ${result.unavailable}`, "", "", "", "", "", "", "", ""];
  }
  const measured = result.bySize?.get(size);
  if (measured?.error !== undefined || measured === undefined) {
    return [
      `${result.label}: FAILED (${measured?.error ?? "not run"})`,
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
    ];
  }
  const { seq, concurrent } = measured;
  return [
    result.label,
    formatMicros(seq?.latency.p50Us),
    formatRatio(ratio(seq?.latency.p50Us, base?.seq?.latency.p50Us)),
    formatMicros(seq?.latency.p99Us),
    formatRatio(ratio(seq?.latency.p99Us, base?.seq?.latency.p99Us)),
    formatCount(seq?.callsPerSecond),
    formatRatio(ratio(seq?.callsPerSecond, base?.seq?.callsPerSecond)),
    formatCount(concurrent?.callsPerSecond),
    formatRatio(ratio(concurrent?.callsPerSecond, base?.concurrent?.callsPerSecond)),
  ];
}

function headlines(result: VariantResult, size: number, base: CaseResult | undefined): string[] {
  const measured = result.bySize?.get(size);
  const bytes = formatBytes(size);
  if (measured === undefined || measured.error !== undefined) {
    return [`${result.key} ${bytes}: FAILED (${measured?.error ?? "not run"})`];
  }
  const vsBase = (value: number | undefined, baseValue: number | undefined) =>
    `${formatRatio(ratio(value, baseValue))} ${BASELINE_LABEL}`;
  const { seq, concurrent } = measured;
  return [
    `${result.key} ${c} ${bytes}: ${formatCount(concurrent?.callsPerSecond)} calls/s (${vsBase(concurrent?.callsPerSecond, base?.concurrent?.callsPerSecond)}; rounds ${spread(measured.roundConcurrentCps, base?.roundConcurrentCps)})`,
    `${result.key} seq ${bytes}: p50 ${formatMicros(seq?.latency.p50Us)} (${vsBase(seq?.latency.p50Us, base?.seq?.latency.p50Us)}; rounds ${spread(measured.roundSeqP50Us, base?.roundSeqP50Us)}), p99 ${formatMicros(seq?.latency.p99Us)} (${vsBase(seq?.latency.p99Us, base?.seq?.latency.p99Us)}), ${formatCount(seq?.callsPerSecond)} calls/s (${vsBase(seq?.callsPerSecond, base?.seq?.callsPerSecond)})`,
  ];
}

/** Each round's figure divided by the baseline's in the same round. */
function roundRatios(
  values: readonly number[] | undefined,
  baseline: readonly number[] | undefined,
): number[] {
  return (values ?? [])
    .map((value, round) => ratio(value, baseline?.[round]))
    .filter((value): value is number => value !== undefined);
}

function minOf(values: readonly number[]): number | undefined {
  return values.length === 0 ? undefined : Math.min(...values);
}

function maxOf(values: readonly number[]): number | undefined {
  return values.length === 0 ? undefined : Math.max(...values);
}

/** Lowest and highest ratio of one round's figure to the baseline's in the same round. */
function spread(values: readonly number[], baseline: readonly number[] | undefined): string {
  const ratios = roundRatios(values, baseline);
  return ratios.length === 0
    ? "n/a"
    : `${formatRatio(minOf(ratios))}–${formatRatio(maxOf(ratios))}`;
}

/**
 * Splits the transport's extra cost over raw NATS into headers, client side and server side. The
 * concurrent column is the cost per call at 100 in flight (1 / throughput): client, server and
 * their event loop share one process here, so it is mostly CPU time per call, and adds up.
 */
function whereTheTimeGoes(
  results: readonly VariantResult[],
  breakdown: BreakdownResult,
  base: CaseResult | undefined,
): string[] {
  const { size } = breakdown;
  const get = (key: string) =>
    (key === "transport"
      ? results.find((result) => result.key === key)
      : breakdown.variants.find((result) => result.key === key)
    )?.bySize?.get(size);
  const seqUs = (measured: CaseResult | undefined) => measured?.seq?.latency.p50Us;
  const costUs = (measured: CaseResult | undefined) => perCallUs(measured?.concurrent);
  const headers = get("raw_nats_headers");
  const clientOnly = get("transport_client_only");
  const serverOnly = get("serve_nats_only");
  const transport = get("transport");
  const inMemory = get("connect_in_memory");
  const delta = (
    pick: (measured: CaseResult | undefined) => number | undefined,
    from: CaseResult | undefined,
    to: CaseResult | undefined,
  ) => signed(difference(pick(to), pick(from)));
  const sum = (pick: (measured: CaseResult | undefined) => number | undefined) => {
    // (raw + headers) + client side + server side
    const client = pick(clientOnly);
    const server = pick(serverOnly);
    const withHeaders = pick(headers);
    if (client === undefined || server === undefined || withHeaders === undefined) return undefined;
    return client + server - withHeaders;
  };
  const describe = (pairs: CapturedHeaders["request"]) =>
    `${headerBytes(pairs)} B (${pairs.map(([name]) => name).join(", ")})`;
  const failures = breakdown.variants
    .filter((result) => result.bySize?.get(size)?.error !== undefined)
    .map((result) => `${result.label}: FAILED (${result.bySize?.get(size)?.error})`);
  return [
    heading(`Where the time goes (${formatBytes(size)}; differences between the variants below)`),
    `transport request headers: ${describe(breakdown.captured.request)}`,
    `serveNats reply headers:   ${describe(breakdown.captured.response)}`,
    table(
      ["step", "seq p50", `${c} µs per call (1/throughput)`],
      [
        ["raw NATS", formatMicros(seqUs(base)), formatMicros(costUs(base))],
        [
          "+ NATS headers on both messages",
          delta(seqUs, base, headers),
          delta(costUs, base, headers),
        ],
        [
          "+ client side (Connect client + createNatsTransport)",
          delta(seqUs, headers, clientOnly),
          delta(costUs, headers, clientOnly),
        ],
        [
          "+ server side (serveNats + Connect router + handler)",
          delta(seqUs, headers, serverOnly),
          delta(costUs, headers, serverOnly),
        ],
        ["= sum of the parts", formatMicros(sum(seqUs)), formatMicros(sum(costUs))],
        ["measured: transport", formatMicros(seqUs(transport)), formatMicros(costUs(transport))],
        [
          "Connect alone, in memory (client + router, no I/O)",
          formatMicros(seqUs(inMemory)),
          formatMicros(costUs(inMemory)),
        ],
      ],
    ),
    "(Sequential p50s drift from round to round on a small VM by more than the smaller steps here;",
    ` the ${c} column, throughput-bound and so CPU per call, is the steadier one and adds up.)`,
    conclusion(costUs(base), costUs(transport), costUs(inMemory)),
    ...failures,
  ];
}

/** One sentence: how much of the transport's extra cost per call Connect alone accounts for. */
function conclusion(
  rawUs: number | undefined,
  transportUs: number | undefined,
  inMemoryUs: number | undefined,
): string {
  const extra = difference(transportUs, rawUs);
  if (extra === undefined || inMemoryUs === undefined) return "";
  return [
    `At ${CONCURRENCY} in flight the transport costs ${formatMicros(extra)} per call more than raw NATS;`,
    `Connect's client and router alone, in memory, cost ${formatMicros(inMemoryUs)} per call`,
    `(${Math.round((100 * inMemoryUs) / extra)}% of that).`,
  ].join(" ");
}

function perCallUs(measurement: Measurement | undefined): number | undefined {
  return measurement === undefined ? undefined : 1e6 / measurement.callsPerSecond;
}

function difference(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a - b;
}

function signed(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return "n/a";
  return `${value >= 0 ? "+" : "−"}${formatMicros(Math.abs(value))}`;
}
