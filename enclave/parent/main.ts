/**
 * The parent process on the enclave host:
 *
 *   tsx enclave/parent/main.ts --socket PATH --nats-url URL [--creds FILE] --blob-dir DIR
 *     --enclave-id ID
 *
 * Prints `ready` on stdout once it relays for the enclave; enclave metrics go to stdout as
 * CloudWatch Embedded Metric Format lines.
 */

import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { connect, credsAuthenticator } from "nats";
import { createFilesystemBlobStore } from "../storage/index.js";
import { createEmfMetricsWriter } from "./emf-metrics.js";
import { startParent } from "./parent.js";

const { values } = parseArgs({
  options: {
    socket: { type: "string" },
    "nats-url": { type: "string" },
    creds: { type: "string" },
    "blob-dir": { type: "string" },
    "enclave-id": { type: "string" },
    "no-metrics": { type: "boolean" },
  },
});
const { socket, "nats-url": natsUrl, "blob-dir": blobDir, "enclave-id": enclaveId } = values;
if (
  socket === undefined ||
  natsUrl === undefined ||
  blobDir === undefined ||
  enclaveId === undefined
) {
  process.stderr.write(
    "usage: parent --socket PATH --nats-url URL [--creds FILE] --blob-dir DIR --enclave-id ID\n",
  );
  process.exit(2);
}
const nats = await connect({
  servers: natsUrl,
  name: `parent-${enclaveId}`,
  maxReconnectAttempts: -1,
  ...(values.creds === undefined
    ? {}
    : { authenticator: credsAuthenticator(await readFile(values.creds)) }),
});
const writeMetrics = createEmfMetricsWriter();
const parent = startParent({
  nats,
  socketPath: socket,
  store: createFilesystemBlobStore({ directory: blobDir }),
  enclaveId,
  ...(values["no-metrics"] === true ? {} : { onMetrics: (report) => void writeMetrics(report) }),
});
await parent.ready;
process.stdout.write("ready\n");
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void parent
      .close()
      .then(() => nats.drain())
      .finally(() => process.exit(0));
  });
}
