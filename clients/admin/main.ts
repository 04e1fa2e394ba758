/**
 * `tsx clients/admin/main.ts --backend http://127.0.0.1:8080 --org-key org.der [--port 8090]`:
 * serves the admin results page locally.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { startAdminServer } from "./admin-server.js";

const { values } = parseArgs({
  options: {
    backend: { type: "string" },
    "org-key": { type: "string", multiple: true },
    port: { type: "string", default: "8090" },
  },
});
if (values.backend === undefined || values["org-key"] === undefined) {
  process.stderr.write(
    "usage: tsx clients/admin/main.ts --backend URL --org-key SPKI-DER-OR-PEM [--port N]\n",
  );
  process.exit(2);
}
const keys = await Promise.all(
  values["org-key"].map(async (path) => {
    const content = await readFile(path);
    const pem = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(
      content.toString("latin1"),
    );
    return new Uint8Array(
      pem === null ? content : Buffer.from((pem[1] as string).replace(/\s+/g, ""), "base64"),
    );
  }),
);
const server = await startAdminServer({
  backendUrl: values.backend,
  orgKeys: keys,
  port: Number(values.port),
});
process.stdout.write(`admin results page: ${server.url}\n`);
