/**
 * `npm start` / `./run start`: the local stack. Today that is a real nats-server in operator mode
 * (JWT auth: a fresh operator and accounts, `server/nats-auth`) and the RPC services built so far —
 * the diagnostic echo (plain, served with a backend user) and the vault echo (sealed to a key made
 * at start-up, standing in for the enclave's attested key, served with a parent user). A member
 * whose device made its own nkey gets a member JWT and calls its vault, sealed; an operator user
 * calls the echo. Later issues add the enclave, the parent and the backend here. It runs until
 * Ctrl-C; `--once` stops after the checks (used by the tests).
 */
import { parseArgs } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createUser } from "@nats-io/nkeys";
import { bytesToHex } from "@noble/hashes/utils.js";
import { connect, jwtAuthenticator } from "nats";
import { EchoService, VaultEchoService } from "../gen/vettid/diagnostics/v1/echo_pb.js";
import {
  createNatsTransport,
  createRequestOpener,
  createRequestSealer,
  createSealingKeyPair,
  serveNats,
} from "../rpc/index.js";
import { createEchoService, createVaultEchoService } from "../server/diagnostics/index.js";
import {
  createMemberCredentialIssuer,
  createNatsTrust,
  issueServiceUser,
  type ServiceRole,
} from "../server/nats-auth/index.js";
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

const trust = await createNatsTrust();
const nats = await startNatsServer({
  config: trust.serverConfig(),
  ...(port === 0 ? {} : { port }),
});

/** Connects as a service user of the given role, with a key made here. */
async function serviceUser(role: ServiceRole) {
  const nkey = createUser();
  const { jwt } = await issueServiceUser({
    role,
    userPublicKey: nkey.getPublicKey(),
    accountPublicKey: trust.account.publicKey,
    signingKey: trust.account.serviceSigningKey,
    ...(role === "parent" ? { enclaveId: "local-enclave-1" } : {}),
  });
  return await connect({
    servers: nats.url,
    name: `vettid-local-${role}`,
    authenticator: jwtAuthenticator(jwt, nkey.getSeed()),
  });
}

const backend = await serviceUser("backend");
const parent = await serviceUser("parent");
const keyPair = await createSealingKeyPair();
const servers = [
  await serveNats({
    connection: backend,
    name: "vettid-diagnostics",
    routes: (router) => router.service(EchoService, createEchoService()),
  }),
  await serveNats({
    connection: parent,
    name: "vettid-vault-echo",
    routes: (router) => router.service(VaultEchoService, createVaultEchoService()),
    sealing: createRequestOpener(keyPair),
  }),
];

// Check both paths end to end, as an app and an operator would call them. The member's device
// makes its own nkey; only the public key goes to the issuer, as in enrollment.
const memberGuid = "00000000-0000-4000-8000-000000000001";
const device = createUser();
const issuer = createMemberCredentialIssuer({
  accountPublicKey: trust.account.publicKey,
  signingKey: trust.account.memberSigningKey,
  serverUrls: [nats.url],
});
const { credentials } = await issuer.issue(memberGuid, device.getPublicKey());
const member = await connect({
  servers: nats.url,
  name: "vettid-local-member",
  authenticator: jwtAuthenticator(credentials.userJwt, device.getSeed()),
});
const operator = await serviceUser("operator");
const echo = createClient(EchoService, createNatsTransport({ connection: operator }));
const vault = createClient(
  VaultEchoService,
  createNatsTransport({
    connection: member,
    subjectValues: { owner_guid: memberGuid },
    sealing: createRequestSealer(keyPair.publicKey),
  }),
);
const plain = await echo.echo({ text: "hello over NATS" });
const sealed = await vault.vaultEcho({ echo: { text: "hello, sealed" } });
await member.close();
await operator.close();

console.log(
  [
    "VettID local stack is up.",
    `  NATS            ${nats.url} (operator mode: JWT users only)`,
    "  services        vettid-diagnostics (Diagnostics.echo.*), vettid-vault-echo (OwnerSpace.*.forVault.sealed)",
    `  sealing key     ${bytesToHex(keyPair.publicKey)} (X25519, made at start-up; dev stand-in for the enclave's attested key)`,
    `  checked         Echo as an operator user -> "${plain.text}"`,
    `                  sealed VaultEcho as member ${memberGuid} (member JWT, device-held key) -> "${sealed.echo?.text}"`,
    "  discover        `nats micro ls` needs a user: the local stack makes its keys afresh at each start",
  ].join("\n"),
);

async function shutdown(): Promise<void> {
  for (const server of servers) await server.close();
  await backend.close();
  await parent.close();
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
