/** Runs the real `vettid` command in a child process, as a person or a script would. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The command's entry point: `node clients/cli/bin/vettid.js`. */
export const VETTID_BIN = fileURLToPath(
  new URL("../../clients/cli/bin/vettid.js", import.meta.url),
);

/** What one run of the command did. */
export interface VettidRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `vettid args…` and resolves when it exits (killed after `timeoutMs`). */
export async function runVettid(
  args: readonly string[],
  options: { env?: Record<string, string>; stdin?: Uint8Array | string; timeoutMs?: number } = {},
): Promise<VettidRun> {
  const child = spawn(process.execPath, [VETTID_BIN, ...args], {
    env: { ...process.env, ...options.env, NO_COLOR: "1" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin.end(options.stdin ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 25_000);
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** `stdout` parsed as the one JSON document `--json` promises. */
export function jsonOf(run: VettidRun): Record<string, unknown> {
  try {
    return JSON.parse(run.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`stdout is not one JSON document:\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}
