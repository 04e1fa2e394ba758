/**
 * `npm start` / `./run start`: the local stack, from a fresh clone, in one command.
 *
 *   tsx scripts/start.ts [--port 4222] [--http-port 8080] [--dynamo-port 4567]
 *                        [--state .local/stack] [--once] [--demo] [--verbose]
 *
 * It starts, in order: dynalite (DynamoDB's API, data on disk in the state folder), a real
 * nats-server in operator mode (the operator, accounts and keys kept in the state folder; the
 * account JWT in force, with its revocations, read from the nats-accounts table), the enclave
 * host (`startEnclave`: the supervisor and the parent as processes, dev NSM), and the backend
 * (the HTTP API on a local port, the control audit worker holding the operator signing key, the
 * diagnostic echo). It checks that each answers, prints what runs where, and runs until Ctrl-C,
 * then stops everything in reverse order. A second start reuses the state folder: members,
 * invitations, vaults and keys survive. `--once` stops after the checks (the tests use it);
 * `--demo` then runs a scripted member journey (scripts/lib/demo-journey.ts) and prints each step.
 */

import { readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { decode, fmtCreds } from "@nats-io/jwt";
import { createUser } from "@nats-io/nkeys";
import { randomBytes } from "@noble/hashes/utils.js";
import { connect, credsAuthenticator } from "nats";
import type { AttestationTrustStore } from "../clients/sdk/attestation/index.js";
import { trustKeysNode } from "../clients/sdk/voting/node.js";
import { readOperatorKeys } from "../enclave/control/index.js";
import { type EnclaveHost, startEnclaveHost } from "../enclave/host/index.js";
import { createDevNsm } from "../enclave/nsm/index.js";
import { createFilesystemBlobStore } from "../enclave/storage/index.js";
import { PcrSetSchema } from "../gen/vettid/attestation/v1/pcr_pb.js";
import { EchoService } from "../gen/vettid/diagnostics/v1/echo_pb.js";
import { createNatsTransport, serveNats } from "../rpc/index.js";
import { createEchoService } from "../server/diagnostics/index.js";
import { issueInvitation } from "../server/enrollment/index.js";
import {
  createLocalVoting,
  type LocalStackState,
  loadOrCreateLocalStackState,
  startLocalBackend,
  startLocalDynalite,
} from "../server/local/index.js";
import { createConsoleLogger, silentLogger } from "../server/logging/index.js";
import { issueServiceUser, type ServiceRole } from "../server/nats-auth/index.js";
import {
  createDynamoClient,
  createInvitationsTable,
  createNatsAccountsTable,
  ensureTables,
} from "../server/storage/index.js";
import { runDemoJourney } from "./lib/demo-journey.js";
import { startNatsServer } from "./lib/nats-server-process.js";

// The AWS SDK warns on every start that its releases after January 2027 will need Node 22; the
// project declares Node 20.19+, so the local stack keeps that notice out of its output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/** Environment name of the local stack: its tables are `vettid-local-*`. */
const ENVIRONMENT = "local";
/** The local enclave's id (`Control.enclave.{id}`, the parent user's control subject). */
const ENCLAVE_ID = "enclave-local-1";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: process.env.NATS_PORT ?? "4222" },
    "http-port": { type: "string", default: process.env.VETTID_HTTP_PORT ?? "8080" },
    "dynamo-port": { type: "string", default: process.env.VETTID_DYNAMO_PORT ?? "4567" },
    state: { type: "string", default: process.env.VETTID_STATE_DIR ?? ".local/stack" },
    once: { type: "boolean", default: false },
    demo: { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
  },
});

function port(name: string, value: string | undefined): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) {
    console.error(
      `--${name} must be a port number (0 for a free one), got ${JSON.stringify(value)}`,
    );
    process.exit(2);
  }
  return parsed;
}
const natsPort = port("port", args.port);
const httpPort = port("http-port", args["http-port"]);
const dynamoPort = port("dynamo-port", args["dynamo-port"]);

/** What was started, stopped in reverse order. */
const stops: (() => Promise<unknown>)[] = [];
let stopping: Promise<void> | undefined;
function shutdown(): Promise<void> {
  stopping ??= (async () => {
    for (const stop of stops.reverse())
      await stop().catch((error: unknown) => console.error(error));
  })();
  return stopping;
}

try {
  const state = await loadOrCreateLocalStackState(args.state);
  const fresh = !(await hasTables(state));

  // 1. dynalite, data on disk in the state folder.
  const dynalite = await startLocalDynalite({ path: state.path("dynamo"), port: dynamoPort });
  stops.push(() => dynalite.close());
  const client = createDynamoClient({ endpoint: dynalite.endpoint });
  stops.push(async () => client.destroy());
  const dynamo = { client, environment: ENVIRONMENT };
  await ensureTables(client, ENVIRONMENT);

  // 2. nats-server in operator mode, from the account JWT in force (revocations included).
  const accounts = createNatsAccountsTable(dynamo);
  const { trust } = state;
  let stored = await accounts.get(trust.account.publicKey);
  if (stored === undefined) {
    stored = { jwt: trust.account.jwt, jwtId: decode(trust.account.jwt).jti };
    await accounts.replace(trust.account.publicKey, stored, undefined, Date.now());
  }
  const nats = await startNatsServer({
    config: trust.serverConfig(stored.jwt),
    ...(natsPort === 0 ? {} : { port: natsPort }),
  });
  stops.push(() => nats.stop());

  // 3. The enclave: supervisor and parent, the parent connecting as the parent user.
  const parentCreds = await writeCreds(state, "parent", "parent.creds");
  const operatorCreds = await writeCreds(state, "operator", "operator.creds");
  const enclave = await startEnclave({
    natsUrl: nats.url,
    parentCredsFile: parentCreds,
    stateDir: state.path("enclave"),
    operatorKeysFile: state.operatorKeysFile,
    votingKeysFile: state.path("votingKeys"),
  });
  stops.push(() => enclave.close());

  // 4. The backend: HTTP API (with voting), control audit worker, voting over NATS, diagnostics.
  const logger = args.verbose ? createConsoleLogger("backend") : silentLogger;
  const voting = await createLocalVoting({
    dynamo,
    voteListDir: state.path("voteLists"),
    orgKey: state.votingKeys.org,
    subscriptionKey: state.votingKeys.subscription,
    adminToken: state.adminToken,
    enclaveTrust: enclave.trust,
    logger,
  });
  const backend = await startLocalBackend({
    natsUrl: nats.url,
    trust,
    dynamo,
    blobs: createFilesystemBlobStore({ directory: state.path("blobs") }),
    enclaveTrust: enclave.trust,
    operatorKeys: await readOperatorKeys(state.operatorKeysFile),
    accountTokenKey: state.accountTokenKey,
    httpPort,
    logger,
    extraRoutes: (router) => voting.routes(router),
    onRecoveryNotice: (notice) =>
      console.log(
        `recovery notice for ${notice.ownerGuid}: recovery ${notice.recoveryId}, cancel token ${Buffer.from(notice.cancelToken).toString("base64url")}`,
      ),
  });
  stops.push(() => backend.stop());
  await voting.serve(backend.connection);
  stops.push(() => voting.stop());
  const echo = await serveNats({
    connection: backend.connection,
    name: "vettid-diagnostics",
    routes: (router) => router.service(EchoService, createEchoService()),
  });
  stops.push(() => echo.close());

  // Checks: each part answers as its users will call it.
  const operator = await connect({
    servers: nats.url,
    name: "vettid-local-operator-check",
    authenticator: credsAuthenticator(await readFile(operatorCreds)),
  });
  const plain = await createClient(EchoService, createNatsTransport({ connection: operator })).echo(
    { text: "hello over NATS" },
  );
  await operator.close();
  const attested = await backend.enclave.getAttestation(randomBytes(32));
  const probe = await fetch(`${backend.url}/vettid.enrollment.v1.EnrollmentService/EnrollStart`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  const probeCode = ((await probe.json()) as { code?: string }).code;
  const invitation = await issueInvitation(createInvitationsTable(dynamo));

  const where = (path: string) => {
    const shown = relative(process.cwd(), path);
    return shown === "" ? "." : shown.startsWith("..") ? path : shown;
  };
  console.log(
    [
      "VettID local stack is up.",
      `  state           ${where(state.dir)} (${fresh ? "created" : "reused"}: keys, tables, blobs, vaults; delete it to start afresh)`,
      `  NATS            ${nats.url} (operator mode: JWT users only; account ${trust.account.publicKey.slice(0, 12)}…)`,
      `  DynamoDB        ${dynalite.endpoint} (dynalite, data in ${where(state.path("dynamo"))}; tables vettid-${ENVIRONMENT}-*)`,
      `  HTTP API        ${backend.url} (Connect, JSON or protobuf: POST /vettid.enrollment.v1.EnrollmentService/EnrollStart …; docs/http-api.md)`,
      `  enclave         ${attested.enclaveId} (supervisor and parent processes, dev NSM in ${where(enclave.host.nsmStateDir)})`,
      "  workers         control audit (Control.*.command, Control.result.*) and member token revocation",
      `  voting          proposals and vote lists on the HTTP API; vote intake and subscription statements on NATS;`,
      `                  lists published a minute after grace (files in ${where(state.path("voteLists"))})`,
      `                  admin token in ${where(state.path("adminToken"))}; results page:`,
      `                  npx tsx clients/admin/main.ts --backend ${backend.url} --org-key ${where(state.path("orgPublicKey"))}`,
      `  invitation      ${invitation.code} (new at each start, valid until ${new Date(invitation.expiresAtMs).toISOString()})`,
      `  operator        VETTID_NATS_URL=${nats.url} VETTID_NATS_CREDS=${where(operatorCreds)} \\`,
      `                  VETTID_CONTROL_KEY=${where(state.controlKeyFile)} VETTID_CONTROL_KEY_ID=${state.controlKeyId} \\`,
      "                  node clients/cli/bin/vettid.js control revoke-member-tokens --owner <guid> --all --revocation-reason member-request",
      `  checked         Echo as an operator user -> "${plain.text}"`,
      `                  enclave attestation verified by the backend (dev root, measured PCRs: ${attested.matchedPcrSetId}) -> ${attested.enclaveId}`,
      `                  HTTP API: EnrollStart {} -> ${probe.status} ${probeCode}`,
    ].join("\n"),
  );

  if (args.demo) {
    console.log("");
    await runDemoJourney({
      baseUrl: backend.url,
      invitationCode: invitation.code,
      trust: enclave.trust,
      adminToken: state.adminToken,
      orgKeys: trustKeysNode([voting.orgPublicKey]),
      print: (line) => console.log(line),
    });
  }

  if (args.once) {
    await shutdown();
  } else {
    console.log("Press Ctrl-C to stop.");
    const stop = () => {
      console.log("Stopping…");
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
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  await shutdown();
  process.exit(1);
}

/** Whether dynalite's store already exists in the state folder (a second start). */
async function hasTables(state: LocalStackState): Promise<boolean> {
  const { readdir } = await import("node:fs/promises");
  return (await readdir(state.path("dynamo"))).length > 0;
}

/** Issues a service user and writes its `.creds` file (0600) into the state folder. */
async function writeCreds(
  state: LocalStackState,
  role: ServiceRole,
  file: string,
): Promise<string> {
  const key = createUser();
  const { jwt } = await issueServiceUser({
    role,
    userPublicKey: key.getPublicKey(),
    accountPublicKey: state.trust.account.publicKey,
    signingKey: state.trust.account.serviceSigningKey,
    ...(role === "parent" ? { enclaveId: ENCLAVE_ID } : {}),
  });
  const path = join(state.path("creds"), file);
  await writeFile(path, fmtCreds(jwt, key), { mode: 0o600 });
  return path;
}

/** The started enclave and what the backend must trust to accept its attestation. */
interface LocalEnclave {
  readonly host: EnclaveHost;
  readonly trust: AttestationTrustStore;
  close(): Promise<void>;
}

/**
 * The enclave step: starts the enclave host (`enclave/host`: supervisor and parent processes, the
 * parent connecting to `natsUrl` with the parent user's creds file), then pins what its dev NSM
 * attests: the dev root in its state folder and the PCRs measured from this checkout (the same
 * code the supervisor runs), as an app pins a release's.
 */
async function startEnclave(options: {
  readonly natsUrl: string;
  readonly parentCredsFile: string;
  readonly stateDir: string;
  readonly operatorKeysFile: string;
  readonly votingKeysFile: string;
}): Promise<LocalEnclave> {
  const output: string[] = [];
  const host = await startEnclaveHost({
    natsUrl: options.natsUrl,
    parentCredsFile: options.parentCredsFile,
    stateDir: options.stateDir,
    enclaveId: ENCLAVE_ID,
    operatorKeysFile: options.operatorKeysFile,
    votingKeysFile: options.votingKeysFile,
    onOutput: (who, line) => {
      if (args.verbose) process.stderr.write(`[${who}] ${line}\n`);
      else if (output.push(`[${who}] ${line}`) > 50) output.shift();
    },
  }).catch((error: unknown) => {
    process.stderr.write(`${output.slice(-20).join("\n")}\n`);
    throw error;
  });
  try {
    // The same state folder gives the same root (loaded, or made once: first writer wins), and
    // the same checkout the same PCRs as the supervisor's dev NSM.
    const nsm = createDevNsm({ stateDir: host.nsmStateDir });
    const measured = await nsm.describePcrs();
    return {
      host,
      trust: {
        pcrSets: [
          create(PcrSetSchema, {
            id: "local-checkout",
            pcrs: Object.fromEntries(
              measured.pcrs.filter((p) => p.index <= 2).map((p) => [p.index, p.value]),
            ),
          }),
        ],
        devRootSha256: (await nsm.rootCertificate()).fingerprintSha256,
        allowDevRoot: true,
      },
      close: () => host.close(),
    };
  } catch (error) {
    await host.close();
    throw error;
  }
}
