/**
 * `vettid control` as a child process against real receivers: the enclave stack's supervisor (real
 * nats-server, dev NSM, supervisor and parent) verifying with its pinned operator key, and an
 * operator-mode nats-server where the CLI authenticates with an operator `.creds` file.
 */
import { createPrivateKey } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { fmtCreds } from "@nats-io/jwt";
import { createUser } from "@nats-io/nkeys";
import { connect, jwtAuthenticator } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { controlKeyFromSeed } from "../../clients/sdk/control/index.js";
import { createControlVerifier } from "../../enclave/control/control-verifier.js";
import {
  ControlCommandResultSchema,
  ControlCommandStatus,
} from "../../gen/vettid/control/v1/command_pb.js";
import { Party } from "../../gen/vettid/options/v1/options_pb.js";
import { createNatsTrust, issueServiceUser } from "../../server/nats-auth/index.js";
import { type EnclaveStack, startEnclaveStack, TEST_ENCLAVE_ID } from "../support/enclave-stack.js";
import { freePort, startNatsServer } from "../support/nats-server.js";
import { jsonOf, runVettid } from "./run-vettid.js";

const OWNER = "0f6a7c52-1c1e-4e8b-9d3a-6a2f4b8c9d01";

let directory: string;
let keyFile: string;
let publicKey: Uint8Array;
let stack: EnclaveStack;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "vettid-control-cli-"));
  keyFile = join(directory, "ops-1.pem");
  const keygen = await runVettid(["control", "keygen", "--out", keyFile, "--json"]);
  expect(keygen.code).toBe(0);
  publicKey = new Uint8Array(Buffer.from(String(jsonOf(keygen).publicKeyHex), "hex"));
  stack = await startEnclaveStack({ operatorKeys: new Map([["ops-1", { publicKey }]]) });
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await rm(directory, { recursive: true, force: true });
});

function controlArgs(extra: readonly string[], server = stack.nats.url): string[] {
  return [
    "--server",
    server,
    "--key",
    keyFile,
    "--key-id",
    "ops-1",
    "--issuer",
    "test-operator",
    ...extra,
  ];
}

describe("keygen", () => {
  it("writes a 0600 PEM, prints only the public key, and refuses to overwrite", async () => {
    const pem = await readFile(keyFile, "utf8");
    expect(pem).toContain("BEGIN PRIVATE KEY");
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const again = await runVettid(["control", "keygen", "--out", keyFile]);
    expect(again.code).toBe(2);
    const text = await runVettid(["control", "keygen", "--out", join(directory, "other.pem")]);
    expect(text.code).toBe(0);
    expect(text.stdout).not.toContain("PRIVATE");
    expect(text.stdout).toMatch(/hex\s+[0-9a-f]{64}/);
  });
});

describe("against the enclave stack's supervisor", () => {
  it("evict-vault to a member is verified and COMPLETED by the supervisor (exit 0)", async () => {
    const run = await runVettid([
      "control",
      "evict-vault",
      "--owner",
      OWNER,
      "--reason",
      "INC-1",
      "--expect",
      "1",
      "--wait",
      "15",
      "--json",
      ...controlArgs([]),
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const json = jsonOf(run);
    expect(json.subject).toBe(`Control.user.${OWNER}.command`);
    expect(json.results).toEqual([
      expect.objectContaining({
        commandId: json.commandId,
        executorId: TEST_ENCLAVE_ID,
        executor: "PARTY_SUPERVISOR",
        status: "CONTROL_COMMAND_STATUS_COMPLETED",
      }),
    ]);
  });

  it("drain-enclave to one enclave, in text, prints each receiver's result", async () => {
    const run = await runVettid([
      "control",
      "drain-enclave",
      "--enclave",
      TEST_ENCLAVE_ID,
      "--expect",
      "1",
      "--wait",
      "15",
      ...controlArgs([]),
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Control.enclave.${TEST_ENCLAVE_ID}.command: 1 result(s)`);
    expect(run.stdout).toMatch(new RegExp(`${TEST_ENCLAVE_ID} \\[supervisor\\] COMPLETED`));
    expect(run.stderr).toContain("published drainEnclave");
  });

  it("a key id the receivers do not know is REJECTED (UNKNOWN_KEY): exit 1", async () => {
    const run = await runVettid([
      "control",
      "restart-vault",
      "--owner",
      OWNER,
      "--expect",
      "1",
      "--wait",
      "15",
      "--json",
      "--server",
      stack.nats.url,
      "--key",
      keyFile,
      "--key-id",
      "ops-unknown",
      "--issuer",
      "x",
    ]);
    expect(run.code).toBe(1);
    expect(jsonOf(run).results).toEqual([
      expect.objectContaining({
        status: "CONTROL_COMMAND_STATUS_REJECTED",
        rejectionReason: "REJECTION_REASON_UNKNOWN_KEY",
      }),
    ]);
  });

  it("another key under the pinned id is REJECTED (BAD_SIGNATURE): exit 1", async () => {
    const other = join(directory, "impostor.pem");
    expect((await runVettid(["control", "keygen", "--out", other])).code).toBe(0);
    const run = await runVettid([
      "control",
      "evict-vault",
      "--owner",
      OWNER,
      "--expect",
      "1",
      "--wait",
      "15",
      "--server",
      stack.nats.url,
      "--key",
      other,
      "--key-id",
      "ops-1",
      "--issuer",
      "x",
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("REJECTED (BAD_SIGNATURE)");
  });

  it("an action the supervisor does not run is REJECTED (NOT_APPLICABLE): exit 1", async () => {
    const run = await runVettid([
      "control",
      "rotate-parent-credentials",
      "--global",
      "--nats",
      "--expect",
      "1",
      "--wait",
      "15",
      ...controlArgs([]),
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("NOT_APPLICABLE");
  });

  it("--dry-run signs and prints without publishing", async () => {
    const run = await runVettid([
      "control",
      "evict-vault",
      "--owner",
      OWNER,
      "--dry-run",
      "--json",
      ...controlArgs([]),
    ]);
    expect(run.code).toBe(0);
    const json = jsonOf(run);
    expect(json.signedControlCommand).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(json).toMatchObject({ action: "evictVault", keyId: "ops-1" });
  });
});

describe("failures the operator can fix", () => {
  it.each([
    ["no key", ["control", "evict-vault", "--owner", OWNER, "--key-id", "ops-1"], /--key/],
    [
      "a malformed owner",
      ["control", "evict-vault", "--owner", "not-a-guid", "--key", "KEY", "--key-id", "ops-1"],
      /owner guid/,
    ],
    [
      "no target for drain",
      ["control", "drain-enclave", "--key", "KEY", "--key-id", "ops-1"],
      /--global or --enclave/,
    ],
    [
      "both --all and --jwt-id",
      [
        "control",
        "revoke-member-tokens",
        "--owner",
        OWNER,
        "--all",
        "--jwt-id",
        "j",
        "--revocation-reason",
        "policy",
        "--key",
        "KEY",
        "--key-id",
        "ops-1",
      ],
      /either --all/,
    ],
    [
      "an unknown revocation reason",
      [
        "control",
        "revoke-member-tokens",
        "--owner",
        OWNER,
        "--all",
        "--revocation-reason",
        "bored",
        "--key",
        "KEY",
        "--key-id",
        "ops-1",
      ],
      /revocation-reason/,
    ],
    [
      "a ttl over an hour",
      [
        "control",
        "evict-vault",
        "--owner",
        OWNER,
        "--ttl",
        "3601",
        "--key",
        "KEY",
        "--key-id",
        "ops-1",
      ],
      /ttl/,
    ],
  ])("%s: exit 2", async (_name, args, message) => {
    const run = await runVettid(args.map((arg) => (arg === "KEY" ? keyFile : arg)));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it("no NATS server listening: exit 3", async () => {
    const port = await freePort();
    const run = await runVettid([
      "control",
      "evict-vault",
      "--owner",
      OWNER,
      ...controlArgs([], `nats://127.0.0.1:${port}`),
    ]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/cannot reach NATS/);
  });

  it("nobody answers within --wait: exit 1", async () => {
    const lonely = await startNatsServer();
    try {
      const run = await runVettid([
        "control",
        "evict-vault",
        "--owner",
        OWNER,
        "--wait",
        "1",
        ...controlArgs([], lonely.url),
      ]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/no receiver answered/);
    } finally {
      await lonely.stop();
    }
  });
});

describe("with operator NATS credentials (operator-mode nats-server)", () => {
  it("publishes with a .creds file; a parent-role receiver verifies it and its result comes back", async () => {
    const trust = await createNatsTrust();
    const server = await startNatsServer({ config: trust.serverConfig() });
    try {
      const issue = async (role: "operator" | "parent") => {
        const nkey = createUser();
        const { jwt } = await issueServiceUser({
          role,
          userPublicKey: nkey.getPublicKey(),
          accountPublicKey: trust.account.publicKey,
          signingKey: trust.account.serviceSigningKey,
          ...(role === "parent" ? { enclaveId: "enclave-ops-1" } : {}),
        });
        return { jwt, nkey };
      };
      const operator = await issue("operator");
      const creds = join(directory, "operator.creds");
      await writeFile(creds, fmtCreds(operator.jwt, operator.nkey), { mode: 0o600 });

      const parent = await issue("parent");
      const receiver = await connect({
        servers: server.url,
        authenticator: jwtAuthenticator(parent.jwt, parent.nkey.getSeed()),
      });
      const verifier = createControlVerifier({
        keys: new Map([["ops-1", { publicKey }]]),
        enclaveId: "enclave-ops-1",
      });
      receiver.subscribe("Control.global.command", {
        callback: (_error, message) => {
          const verdict = verifier.verify(message.data, { kind: "global" });
          if (!verdict.ok) return;
          receiver.publish(
            `Control.result.${verdict.command.commandId}`,
            toBinary(
              ControlCommandResultSchema,
              create(ControlCommandResultSchema, {
                commandId: verdict.command.commandId,
                executorId: "i-parent",
                executor: Party.PARENT,
                status: ControlCommandStatus.ACCEPTED,
                detail: "rotating",
                reportedAtMs: BigInt(Date.now()),
              }),
            ),
          );
        },
      });
      await receiver.flush();

      const run = await runVettid([
        "control",
        "rotate-parent-credentials",
        "--global",
        "--nats",
        "--aws",
        "--expect",
        "1",
        "--wait",
        "15",
        "--json",
        "--creds",
        creds,
        ...controlArgs([], server.url),
      ]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(jsonOf(run).results).toEqual([
        expect.objectContaining({
          executorId: "i-parent",
          status: "CONTROL_COMMAND_STATUS_ACCEPTED",
        }),
      ]);

      const noCreds = await runVettid([
        "control",
        "evict-vault",
        "--owner",
        OWNER,
        ...controlArgs([], server.url),
      ]);
      expect(noCreds.code).not.toBe(0);
      const garbage = join(directory, "garbage.creds");
      await writeFile(garbage, "not creds");
      const badCreds = await runVettid([
        "control",
        "evict-vault",
        "--owner",
        OWNER,
        "--creds",
        garbage,
        ...controlArgs([], server.url),
      ]);
      expect(badCreds.code).toBe(2);
      await receiver.close();
    } finally {
      await server.stop();
    }
  });

  it("the signing key used by the CLI is the one keygen printed", async () => {
    const pem = await readFile(keyFile, "utf8");
    const jwk = createPrivateKey(pem).export({ format: "jwk" });
    const key = controlKeyFromSeed(
      "ops-1",
      new Uint8Array(Buffer.from(String(jwk.d), "base64url")),
    );
    expect(key.publicKey).toEqual(publicKey);
  });
});
