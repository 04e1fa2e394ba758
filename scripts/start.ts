/**
 * `npm start` / `./run start`: the local stack. Today that is a real nats-server and the RPC
 * services built so far — the diagnostic echo (plain) and the vault echo (sealed to a key made at
 * start-up, standing in for the enclave's attested key). Later issues add the enclave, the parent
 * and the backend here. It checks both paths with one call each, prints how to reach them, and
 * runs until Ctrl-C; `--once` stops after the checks (used by the tests).
 */
import { parseArgs } from "node:util";
import { createClient } from "@connectrpc/connect";
import { bytesToHex } from "@noble/hashes/utils.js";
import { connect } from "nats";
import { EchoService, VaultEchoService } from "../gen/vettid/diagnostics/v1/echo_pb.js";
import {
  createNatsTransport,
  createRequestOpener,
  createRequestSealer,
  createSealingKeyPair,
  serveNats,
} from "../rpc/index.js";
import { createEchoService, createVaultEchoService } from "../server/diagnostics/index.js";
import { startNatsServer } from "./lib/nats-server-process.js";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: process.env.NATS_PORT ?? "4222" },
    once: { type: "boolean", default: false },
  },
});
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`--port must be a port number, got ${JSON.stringify(args.port)}`);
  process.exit(2);
}

const nats = await startNatsServer(port === 0 ? {} : { port });
const services = await connect({ servers: nats.url, name: "vettid-local-services" });
const keyPair = await createSealingKeyPair();
const servers = [
  await serveNats({
    connection: services,
    name: "vettid-diagnostics",
    routes: (router) => router.service(EchoService, createEchoService()),
  }),
  await serveNats({
    connection: services,
    name: "vettid-vault-echo",
    routes: (router) => router.service(VaultEchoService, createVaultEchoService()),
    sealing: createRequestOpener(keyPair),
  }),
];

// Check both paths end to end, as an app and an operator would call them.
const client = await connect({ servers: nats.url, name: "vettid-local-check" });
const memberGuid = "00000000-0000-4000-8000-000000000001";
const echo = createClient(EchoService, createNatsTransport({ connection: client }));
const vault = createClient(
  VaultEchoService,
  createNatsTransport({
    connection: client,
    subjectValues: { owner_guid: memberGuid },
    sealing: createRequestSealer(keyPair.publicKey),
  }),
);
const plain = await echo.echo({ text: "hello over NATS" });
const sealed = await vault.vaultEcho({ echo: { text: "hello, sealed" } });
await client.close();

console.log(
  [
    "VettID local stack is up.",
    `  NATS            ${nats.url}`,
    "  services        vettid-diagnostics (Diagnostics.echo.*), vettid-vault-echo (OwnerSpace.*.forVault.sealed)",
    `  sealing key     ${bytesToHex(keyPair.publicKey)} (X25519, made at start-up; dev stand-in for the enclave's attested key)`,
    `  checked         Echo -> "${plain.text}", sealed VaultEcho as ${memberGuid} -> "${sealed.echo?.text}"`,
    `  discover        nats --server ${nats.url} micro ls`,
  ].join("\n"),
);

async function shutdown(): Promise<void> {
  for (const server of servers) await server.close();
  await services.close();
  await nats.stop();
}

if (args.once) {
  await shutdown();
} else {
  console.log("Press Ctrl-C to stop.");
  const stop = () => {
    shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
