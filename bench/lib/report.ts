/** Figures for the machine-readable summary: the last line of stdout, one JSON object. */
export type Figures = Record<string, number | string | boolean | null>;

const grouped = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** `12,345` for counts and rates; `n/a` for a missing figure. */
export function formatCount(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? "n/a" : grouped.format(value);
}

/** Microseconds with one decimal below 100 µs, whole above. */
export function formatMicros(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return "n/a";
  return value < 100 ? `${value.toFixed(1)} µs` : `${grouped.format(value)} µs`;
}

/** `256B`, `64KiB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / 1024 / 1024}MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024}KiB`;
  return `${bytes}B`;
}

/** `0.71×`, or `n/a` when either side is missing. */
export function formatRatio(ratio: number | undefined): string {
  return ratio === undefined || !Number.isFinite(ratio) ? "n/a" : `${ratio.toFixed(2)}×`;
}

/** `value ÷ baseline`, undefined when either is missing or the baseline is zero. */
export function ratio(value: number | undefined, baseline: number | undefined): number | undefined {
  if (value === undefined || baseline === undefined || baseline === 0) return undefined;
  const result = value / baseline;
  return Number.isFinite(result) ? result : undefined;
}

/** Rounds to `digits` significant decimals for the JSON line; missing becomes null. */
export function figure(value: number | undefined, decimals = 0): number | null {
  if (value === undefined || !Number.isFinite(value)) return null;
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}

/** Lays rows out in columns: the first left-aligned, the rest right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) =>
    Math.max(...all.map((row) => [...(row[column] ?? "")].length)),
  );
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) => {
        const pad = " ".repeat((widths[column] ?? 0) - [...cell].length);
        return column === 0 ? cell + pad : pad + cell;
      })
      .join("  ")
      .trimEnd();
  const rule = widths.map((width) => "─".repeat(width)).join("  ");
  return [line(header), rule, ...rows.map(line)].join("\n");
}

/** A section heading for the human-readable report. */
export function heading(title: string): string {
  return `\n${title}\n${"═".repeat([...title].length)}`;
}

/** Progress goes to stderr, so that stdout holds only the report and the final JSON line. */
export function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}
