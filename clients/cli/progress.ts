import { SingleBar } from "cli-progress";
import type { Output } from "./output.js";

/** A progress bar over a known number of steps, shown on stderr. */
export interface Progress {
  /** Marks one more step done, naming the next one. */
  step(label: string): void;
  /** Ends the bar (whether the work succeeded or not). */
  stop(): void;
}

/**
 * A progress bar (`cli-progress`) for work of `total` steps. Drawn only for people: on a terminal
 * and without `--json`; otherwise each step is one plain line on stderr (or nothing with `--json`),
 * so logs and pipes stay clean.
 */
export function createProgress(output: Output, total: number, title: string): Progress {
  const stderr = output.io.stderr;
  if (output.json) return { step() {}, stop() {} };
  if (stderr.isTTY !== true) {
    let done = 0;
    return {
      step(label) {
        done += 1;
        stderr.write(`${title} [${Math.min(done, total)}/${total}] ${label}\n`);
      },
      stop() {},
    };
  }
  const bar = new SingleBar({
    format: `${title} [{bar}] {value}/{total} {label}`,
    stream: stderr,
    hideCursor: true,
    clearOnComplete: false,
  });
  bar.start(total, 0, { label: "" });
  let stopped = false;
  return {
    step(label) {
      bar.increment(1, { label });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
