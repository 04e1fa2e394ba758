/**
 * The benchmarks: `npm run bench` runs every part, `npm run bench -- rpc` one of them. Each part
 * prints a human-readable report with its figures' ratios to baselines measured in the same run;
 * the last line of stdout is one JSON object with every figure. Progress goes to stderr.
 */
import { parseArgs } from "node:util";
import { runEnclaveBench } from "./enclave/index.js";
import { type Figures, figure, progress } from "./lib/report.js";
import { runRpcBench } from "./rpc/index.js";
import { runVotingBench } from "./voting/index.js";

interface PartOptions {
  /** Time spent measuring each figure, in seconds. */
  readonly secondsPerFigure: number;
  /** Also measure "where the time goes". */
  readonly breakdown: boolean;
}

/** The parts, by the name given on the command line. */
const PARTS: Record<string, (options: PartOptions) => Promise<Figures>> = {
  rpc: (options) => runRpcBench(options),
  enclave: (options) => runEnclaveBench(options),
  voting: (options) => runVotingBench(options),
};

const USAGE = `usage: npm run bench -- [part ...] [options]

parts: ${Object.keys(PARTS).join(", ")} (default: all)

options:
  --seconds <s>       time spent measuring each figure, split over rounds (default 3);
                      every loop also stops at a call count
  --skip-breakdown    leave out "where the time goes"
  -h, --help          this text`;

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const unknown = positionals.filter((name) => !(name in PARTS));
  const secondsPerFigure = Number(values.seconds);
  if (unknown.length > 0 || !(secondsPerFigure > 0)) {
    process.stderr.write(
      `${unknown.length > 0 ? `unknown part: ${unknown.join(", ")}` : `--seconds must be a positive number`}\n${USAGE}\n`,
    );
    return 2;
  }
  const selected = positionals.length > 0 ? [...new Set(positionals)] : Object.keys(PARTS);
  const options: PartOptions = {
    secondsPerFigure,
    breakdown: values["skip-breakdown"] !== true,
  };

  const startedNs = process.hrtime.bigint();
  const figures: Figures = { parts: selected.join(",") };
  let status = 0;
  for (const name of selected) {
    const run = PARTS[name];
    if (run === undefined) continue;
    try {
      Object.assign(figures, await run(options));
    } catch (error) {
      progress(
        `${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      figures[`${name}_error`] = error instanceof Error ? error.message : String(error);
      status = 1;
    }
  }
  figures.seconds_per_figure = secondsPerFigure;
  figures.wall_seconds = figure(Number(process.hrtime.bigint() - startedNs) / 1e9, 1);
  process.stdout.write(`\n${JSON.stringify(figures)}\n`);
  return status;
}

function parse() {
  return parseArgs({
    allowPositionals: true,
    options: {
      seconds: { type: "string", default: "3" },
      "skip-breakdown": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

process.exitCode = await main();
