import { type ChildProcess, spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** How long a process may take to print `ready`: tsx compiles on first start. */
export const DEFAULT_READY_TIMEOUT_MS = 60_000;

/** Options of {@link startEnclaveHost}. */
export interface EnclaveHostOptions {
  /** NATS URL for the parent. */
  readonly natsUrl: string;
  /** The parent user's creds file (operator mode); omitted for a server without auth. */
  readonly parentCredsFile?: string;
  /** Folder for the socket, the dev NSM state and the vault blobs (kept across starts). */
  readonly stateDir: string;
  /** This enclave's id. Default "enclave-local-1". */
  readonly enclaveId?: string;
  /** Pinned operator keys file (see `enclave/control/operator-keys-file.ts`). */
  readonly operatorKeysFile?: string;
  /** The voting keys the enclave pins (`enclave/voting/voting-keys-file.ts`); none: no voting. */
  readonly votingKeysFile?: string;
  /** Memory budget for active vaults, MiB. */
  readonly memoryBudgetMb?: number;
  /** Where the processes' output goes. Default: inherited stderr, stdout dropped after ready. */
  readonly onOutput?: (process: "supervisor" | "parent", line: string) => void;
}

/** One of the two processes. */
export interface HostProcess {
  readonly child: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
}

/** A running enclave host: the supervisor (the enclave, locally a process) and the parent. */
export interface EnclaveHost {
  readonly enclaveId: string;
  readonly socketPath: string;
  readonly blobDir: string;
  readonly nsmStateDir: string;
  supervisor: HostProcess;
  parent: HostProcess;
  /** Starts the supervisor again (after it exited or was killed). */
  restartSupervisor(): Promise<void>;
  /** Starts the parent again. */
  restartParent(): Promise<void>;
  /** Stops both (SIGTERM, then SIGKILL after 5 s). */
  close(): Promise<void>;
}

/**
 * Starts the parent and the supervisor as two processes, as they run on an enclave host, and
 * resolves once the parent relays for the enclave.
 */
export async function startEnclaveHost(options: EnclaveHostOptions): Promise<EnclaveHost> {
  const enclaveId = options.enclaveId ?? "enclave-local-1";
  await mkdir(options.stateDir, { recursive: true, mode: 0o700 });
  const socketPath = join(options.stateDir, "supervisor.sock");
  const blobDir = join(options.stateDir, "blobs");
  const nsmStateDir = join(options.stateDir, "nsm");

  const supervisorArgs = [
    "enclave/supervisor/main.ts",
    "--socket",
    socketPath,
    "--nsm-state",
    nsmStateDir,
    "--enclave-id",
    enclaveId,
    ...(options.operatorKeysFile === undefined
      ? []
      : ["--operator-keys", options.operatorKeysFile]),
    ...(options.memoryBudgetMb === undefined
      ? []
      : ["--memory-budget-mb", String(options.memoryBudgetMb)]),
    ...(options.votingKeysFile === undefined ? [] : ["--voting-keys", options.votingKeysFile]),
  ];
  const parentArgs = [
    "enclave/parent/main.ts",
    "--socket",
    socketPath,
    "--nats-url",
    options.natsUrl,
    "--blob-dir",
    blobDir,
    "--enclave-id",
    enclaveId,
    ...(options.parentCredsFile === undefined ? [] : ["--creds", options.parentCredsFile]),
  ];

  const host: EnclaveHost = {
    enclaveId,
    socketPath,
    blobDir,
    nsmStateDir,
    supervisor: await launch("supervisor", supervisorArgs, options),
    parent: await launch("parent", parentArgs, options),
    async restartSupervisor() {
      host.supervisor = await launch("supervisor", supervisorArgs, options);
    },
    async restartParent() {
      host.parent = await launch("parent", parentArgs, options);
    },
    async close() {
      await Promise.all([stop(host.parent), stop(host.supervisor)]);
    },
  };
  return host;
}

async function launch(
  name: "supervisor" | "parent",
  args: readonly string[],
  options: EnclaveHostOptions,
): Promise<HostProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const output = options.onOutput ?? ((who, line) => process.stderr.write(`[${who}] ${line}\n`));
  let stderrTail = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-4000);
    for (const line of chunk.split("\n")) if (line !== "") output(name, line);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not get ready in time:\n${stderrTail}`)),
      DEFAULT_READY_TIMEOUT_MS,
    );
    let buffer = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk;
      let newline = buffer.indexOf("\n");
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.startsWith("ready")) {
          clearTimeout(timer);
          resolve();
        } else if (options.onOutput !== undefined) {
          options.onOutput(name, line);
        }
        newline = buffer.indexOf("\n");
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${stderrTail}`));
    });
  });
  return { child, exited };
}

async function stop(process: HostProcess): Promise<void> {
  if (process.child.exitCode !== null || process.child.signalCode !== null) return;
  process.child.kill("SIGTERM");
  const timer = setTimeout(() => process.child.kill("SIGKILL"), 5000);
  await process.exited;
  clearTimeout(timer);
}
