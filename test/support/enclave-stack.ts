/**
 * The enclave side of the system for tests, as real processes would run it but in-process: a real
 * nats-server, the dev NSM (state on disk), a supervisor on a Unix socket, a parent with a
 * filesystem blob store. Members and the backend connect as plain NATS users (the permission
 * matrix is tested in test/nats-auth and test/server).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "nats";
import type { OperatorKey } from "../../enclave/control/control-verifier.js";
import { createDevNsm, type DevNsm } from "../../enclave/nsm/index.js";
import { type FrameDirection, type Parent, startParent } from "../../enclave/parent/parent.js";
import { type BlobStore, createFilesystemBlobStore } from "../../enclave/storage/index.js";
import { type Supervisor, startSupervisor } from "../../enclave/supervisor/supervisor.js";
import type { Frame } from "../../gen/vettid/vsock/v1/frame_pb.js";
import type { Metric } from "../../gen/vettid/vsock/v1/health_pb.js";
import { type NatsServerHandle, startNatsServer } from "./nats-server.js";

export const TEST_ENCLAVE_ID = "enclave-test-1";

export interface EnclaveStack {
  readonly nats: NatsServerHandle;
  readonly nsm: DevNsm;
  readonly directory: string;
  readonly store: BlobStore;
  supervisor: Supervisor;
  parent: Parent;
  /** Every frame the parent relayed, both ways. */
  readonly frames: { direction: FrameDirection; frame: Frame }[];
  /** Every metric the enclave reported to the parent. */
  readonly metrics: Metric[];
  connect(): Promise<NatsConnection>;
  /** Stops the supervisor and parent and starts new ones (a restart; storage and NSM keys stay). */
  restartEnclave(): Promise<void>;
  close(): Promise<void>;
}

export async function startEnclaveStack(
  options: {
    now?: () => number;
    operatorKeys?: ReadonlyMap<string, OperatorKey>;
    memoryBudgetBytes?: number;
  } = {},
): Promise<EnclaveStack> {
  const directory = await mkdtemp(join(tmpdir(), "vettid-enclave-"));
  const nats = await startNatsServer();
  const nsm = createDevNsm({ stateDir: join(directory, "nsm") });
  const store = createFilesystemBlobStore({ directory: join(directory, "blobs") });
  const connections: NatsConnection[] = [];
  const frames: { direction: FrameDirection; frame: Frame }[] = [];
  const metrics: Metric[] = [];
  const socketPath = join(directory, "supervisor.sock");
  const connectNats = async () => {
    const connection = await connect({ servers: nats.url });
    connections.push(connection);
    return connection;
  };
  const parentNats = await connectNats();
  const startBoth = async () => {
    const supervisor = await startSupervisor({
      socketPath,
      nsm,
      enclaveId: TEST_ENCLAVE_ID,
      operatorKeys: options.operatorKeys ?? new Map(),
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.memoryBudgetBytes === undefined
        ? {}
        : { memoryBudgetBytes: options.memoryBudgetBytes }),
      onProblem: process.env.VETTID_DEBUG ? (p) => console.error(p) : () => {},
    });
    const parent = startParent({
      nats: parentNats,
      socketPath,
      store,
      enclaveId: TEST_ENCLAVE_ID,
      observeFrame: (direction, frame) => frames.push({ direction, frame }),
      onMetrics: (report) => metrics.push(...report.metrics),
      onProblem: () => {},
    });
    await parent.ready;
    return { supervisor, parent };
  };
  let running = await startBoth();
  const stack: EnclaveStack = {
    nats,
    nsm,
    directory,
    store,
    supervisor: running.supervisor,
    parent: running.parent,
    frames,
    metrics,
    connect: connectNats,
    async restartEnclave() {
      await running.parent.close();
      await running.supervisor.close();
      running = await startBoth();
      stack.supervisor = running.supervisor;
      stack.parent = running.parent;
    },
    async close() {
      await running.parent.close().catch(() => {});
      await running.supervisor.close().catch(() => {});
      for (const connection of connections) await connection.close().catch(() => {});
      await nats.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
  return stack;
}
