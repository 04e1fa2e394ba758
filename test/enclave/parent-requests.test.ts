/**
 * The parent answers the enclave's storage requests concurrently: one slow write (an fsync, an S3
 * round trip) must not hold up the other vaults' writes, and closing the parent lets a write under
 * way finish. Real nats-server, a real socket, the filesystem blob store behind a gate.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startParent } from "../../enclave/parent/index.js";
import { type BlobStore, createFilesystemBlobStore } from "../../enclave/storage/index.js";
import { listenVsock, type VsockConnection, type VsockServer } from "../../enclave/vsock/index.js";
import { PutMode, StorageOutcome } from "../../gen/vettid/vsock/v1/storage_pb.js";
import { type NatsServerHandle, startNatsServer } from "../support/nats-server.js";

let nats: NatsServerHandle;
let connection: NatsConnection;
let directory: string;

beforeAll(async () => {
  nats = await startNatsServer();
  connection = await connect({ servers: nats.url });
  directory = await mkdtemp(join(tmpdir(), "vettid-parent-requests-"));
});

afterAll(async () => {
  await connection?.close();
  await nats?.stop();
  await rm(directory, { recursive: true, force: true });
});

/** A store whose writes under `slow/` wait until released. */
function gatedStore(inner: BlobStore) {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const store: BlobStore = {
    ...inner,
    get: (key, version) => inner.get(key, version),
    delete: (key, expected) => inner.delete(key, expected),
    async put(key, data, condition) {
      if (key.includes("slow")) await gate;
      return inner.put(key, data, condition);
    },
  };
  return { store, release };
}

const put = (link: VsockConnection, key: string) =>
  link.request({
    case: "storagePutRequest",
    value: {
      $typeName: "vettid.vsock.v1.StoragePutRequest",
      key,
      data: new TextEncoder().encode(key),
      mode: PutMode.OVERWRITE,
      expectedVersion: "",
    },
  });

describe("the parent's answers to storage requests", () => {
  it("a slow write does not hold up others; closing waits for the write under way", async () => {
    const socketPath = join(directory, "supervisor.sock");
    let link: VsockConnection | undefined;
    const linked = new Promise<VsockConnection>((resolve) => {
      void listenVsock({
        path: socketPath,
        onConnection: (accepted) => {
          link = accepted;
          resolve(accepted);
          return accepted.closed.then(() => {});
        },
      }).then((server) => servers.push(server));
    });
    const servers: VsockServer[] = [];
    const { store, release } = gatedStore(
      createFilesystemBlobStore({ directory: join(directory, "blobs") }),
    );
    const parent = startParent({
      nats: connection,
      socketPath,
      store,
      enclaveId: "enclave-parent-test",
      onProblem: () => {},
    });
    await parent.ready;
    const enclaveSide = await linked;

    const slow = put(enclaveSide, "vaults/slow-vault");
    let slowDone = false;
    const slowOutcome = slow.then(
      () => {
        slowDone = true;
        return "answered";
      },
      () => "unanswered",
    );
    const fast = await put(enclaveSide, "vaults/fast-vault");
    expect(fast.body.value.outcome).toBe(StorageOutcome.OK);
    expect(slowDone).toBe(false);

    // Closing while the slow write is under way: the write still completes, and close waits.
    const closing = parent.close();
    let closed = false;
    void closing.then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(false);
    release();
    await closing;
    // The write happened; the link was closed first, so the enclave got no answer (its vault
    // reloads and retries after a restart).
    const stored = await store.get("vaults/slow-vault");
    if (stored.outcome !== "ok") throw new Error("the slow write is missing");
    expect(new TextDecoder().decode(stored.data)).toBe("vaults/slow-vault");
    expect(await slowOutcome).toBe("unanswered");
    expect(link).toBeDefined();
    for (const server of servers) await server.close();
  });
});
