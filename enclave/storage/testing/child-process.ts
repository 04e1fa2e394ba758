/**
 * Test-only: runs a TypeScript file of this folder in a child `node` (through tsx, as the tests
 * themselves run) and talks to it in JSON lines: one command on its stdin, one reply on its stdout.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";

/** A running child and the line protocol to it. */
export interface TestChild {
  readonly process: ChildProcessWithoutNullStreams;
  /** Resolves once the child has printed its first line (`ready`). */
  readonly ready: Promise<void>;
  /** Resolves once the child has exited, however it ended. */
  readonly exited: Promise<void>;
  /** Sends `command` as one JSON line and resolves to the next line the child prints, parsed. */
  request<T>(command: unknown): Promise<T>;
  /** Ends its stdin (the child exits when it has finished) and waits for it to exit. */
  close(): Promise<void>;
}

/** Starts `node --import tsx <this folder>/<script> ...args`. */
export function startTestChild(script: string, args: readonly string[]): TestChild {
  const path = new URL(script, import.meta.url).pathname;
  const child = spawn(process.execPath, ["--import", "tsx", path, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = once(child, "exit").then(() => undefined);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async (): Promise<string> => {
    const next = await Promise.race([
      lines.next(),
      exited.then(() => ({ done: true, value: undefined }) as const),
    ]);
    if (next.done) throw new Error(`${script} exited early (${child.exitCode}): ${stderr}`);
    return next.value;
  };
  const ready = nextLine().then((line) => {
    if (line !== "ready") throw new Error(`${script} printed ${line} instead of ready`);
  });
  return {
    process: child,
    ready,
    exited,
    async request<T>(command: unknown): Promise<T> {
      child.stdin.write(`${JSON.stringify(command)}\n`);
      return JSON.parse(await nextLine()) as T;
    },
    async close() {
      child.stdin.end();
      if (child.exitCode === null && child.signalCode === null) await exited;
      if (child.exitCode !== 0 && child.signalCode === null) {
        throw new Error(`${script} exited with ${child.exitCode}: ${stderr}`);
      }
    },
  };
}
