/**
 * The parent process on the enclave host:
 *
 *   tsx enclave/parent/main.ts --socket PATH --nats-url URL [--creds FILE] --enclave-id ID
 *     (--blob-dir DIR | --s3-bucket NAME)
 *
 * With `VETTID_KMS_SEALING_KEY_ARN` (and `AWS_REGION`) set, the enclave's KMS requests are relayed
 * to that key (production); without, they are refused and the enclave seals with the dev NSM.
 *
 * Prints `ready` on stdout once it relays for the enclave; enclave metrics go to stdout as
 * CloudWatch Embedded Metric Format lines.
 */

import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { KMSClient } from "@aws-sdk/client-kms";
import { S3Client } from "@aws-sdk/client-s3";
import { connect, credsAuthenticator } from "nats";
import { createS3BlobStore } from "../../server/storage/s3-blob-store.js";
import { createFilesystemBlobStore } from "../storage/index.js";
import { createEmfMetricsWriter } from "./emf-metrics.js";
import { createKmsRelay } from "./kms-relay.js";
import { startParent } from "./parent.js";

const { values } = parseArgs({
  options: {
    socket: { type: "string" },
    "nats-url": { type: "string" },
    creds: { type: "string" },
    "blob-dir": { type: "string" },
    "s3-bucket": { type: "string" },
    "enclave-id": { type: "string" },
    "no-metrics": { type: "boolean" },
  },
});
const { socket, "nats-url": natsUrl, "blob-dir": blobDir, "enclave-id": enclaveId } = values;
const bucket = values["s3-bucket"];
if (
  socket === undefined ||
  natsUrl === undefined ||
  enclaveId === undefined ||
  (blobDir === undefined) === (bucket === undefined)
) {
  process.stderr.write(
    "usage: parent --socket PATH --nats-url URL [--creds FILE] --enclave-id ID (--blob-dir DIR | --s3-bucket NAME)\n",
  );
  process.exit(2);
}
const kmsKeyArn = process.env.VETTID_KMS_SEALING_KEY_ARN;
const store =
  bucket === undefined
    ? createFilesystemBlobStore({ directory: blobDir ?? "" })
    : createS3BlobStore({ client: new S3Client({}), bucket });
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
  store,
  ...(kmsKeyArn === undefined
    ? {}
    : { kms: createKmsRelay({ client: new KMSClient({}), keyId: kmsKeyArn }) }),
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
