import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findNatsServerBinary } from "./nats-server-binary.js";

/** A real `nats-server` process (for the local stack and the tests), on a loopback port. */
export interface NatsServerHandle {
  /** `nats://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** Stops the process (SIGTERM, then SIGKILL) and removes its temporary directory. */
  stop(): Promise<void>;
  /** Stops and starts the server again on the same port with the same configuration. */
  restart(): Promise<void>;
}

export interface NatsServerOptions {
  /** Port to listen on; default a free one. */
  readonly port?: number;
  /**
   * Extra configuration appended to the generated config file (accounts, authorization, limits).
   * `port` and `host` are always set by the harness.
   */
  readonly config?: string;
}

/** How long to wait for the server to accept connections; generous for a loaded 2-core machine. */
const READY_TIMEOUT_MS = 15_000;

/** Starts `nats-server` (on a free port unless one is given) and resolves once it accepts connections. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const binary = findNatsServerBinary();
  if (binary === undefined) {
    throw new Error(
      "nats-server not found: run `./run test`, which installs it, or apt-get install nats-server",
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "vettid-nats-"));
  const port = options.port ?? (await freePort());
  const configPath = join(dir, "nats.conf");
  writeFileSync(
    configPath,
    [
      `host: 127.0.0.1`,
      `port: ${port}`,
      `pid_file: "${join(dir, "nats.pid")}"`,
      options.config ?? "",
    ].join("\n"),
  );
  let child: ChildProcess | undefined;
  let output = "";

  const launch = async () => {
    output = "";
    const proc = spawn(binary, ["-c", configPath], { stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    proc.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    proc.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitForPort(port, proc, () => output);
  };

  const halt = async () => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await halt();
      await launch();
    },
  };
}

/** Asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === "object") resolve(address.port);
        else reject(new Error("could not allocate a port"));
      });
    });
  });
}

async function waitForPort(port: number, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) {
      throw new Error(`nats-server exited with code ${proc.exitCode}:\n${log()}`);
    }
    if (await canConnect(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  proc.kill("SIGKILL");
  throw new Error(`nats-server did not accept connections on port ${port}:\n${log()}`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.connect(port, "127.0.0.1");
  });
}
