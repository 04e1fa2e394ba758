/**
 * `vettid enroll` as a child process over real HTTP (Connect protocol, `createConnectTransport`)
 * to the stand-in EnrollmentService in front of the real enclave stack; then `vettid unlock` and
 * `vettid vault status` with the trust settings enroll saved.
 */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EnrollmentService } from "../../gen/vettid/enrollment/v1/enrollment_pb.js";
import { type EnclaveStack, startEnclaveStack } from "../support/enclave-stack.js";
import { freePort } from "../support/nats-server.js";
import { jsonOf, runVettid } from "./run-vettid.js";
import { INVITATION, standInEnrollmentService } from "./stand-in-enrollment.js";

const PASSWORD = "enrolled from the command line";

let stack: EnclaveStack;
let server: Server;
let backendUrl: string;
let directory: string;
let trustArgs: string[];
const problems: string[] = [];

beforeAll(async () => {
  stack = await startEnclaveStack();
  server = createServer(
    connectNodeAdapter({
      routes: (router) =>
        router.service(EnrollmentService, standInEnrollmentService(stack, problems)),
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  backendUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  directory = await mkdtemp(join(tmpdir(), "vettid-cli-enroll-"));
  const rootPem = join(directory, "dev-root.pem");
  await writeFile(rootPem, (await stack.nsm.rootCertificate()).pem);
  const { pcrs } = await stack.nsm.describePcrs();
  trustArgs = [
    "--root",
    rootPem,
    ...pcrs
      .filter((p) => p.index <= 2)
      .flatMap((p) => ["--pcr", `${p.index}=${Buffer.from(p.value).toString("hex")}`]),
  ];
}, 60_000);
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await stack?.close();
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
});

describe("vettid enroll", () => {
  const home = () => join(directory, "alice");

  it("enrolls over HTTP, then unlock and vault status use what it stored", async () => {
    const run = await runVettid(
      [
        "enroll",
        "--backend",
        backendUrl,
        "--invitation",
        INVITATION,
        "--home",
        home(),
        "--json",
        ...trustArgs,
      ],
      { stdin: `${PASSWORD}\n` },
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const json = jsonOf(run);
    expect(json).toMatchObject({
      cekVersion: "1",
      pinSetupRequired: true,
      natsServers: [stack.nats.url],
    });
    expect(problems).toEqual([]);

    // No trust flags from here on: enroll saved them in the home.
    const unlock = await runVettid(["unlock", "--home", home()], { stdin: "975310\n" });
    expect(unlock.code).toBe(0);
    expect(unlock.stdout).toContain("PIN set");
    const status = await runVettid(["vault", "status", "--home", home(), "--json"]);
    expect(status.code).toBe(0);
    expect(jsonOf(status)).toMatchObject({
      ownerGuid: json.ownerGuid,
      state: "UNLOCKED",
      matchedPcrSet: "configured",
    });
  });

  it("refuses a home that already holds a member (exit 2)", async () => {
    const run = await runVettid(
      [
        "enroll",
        "--backend",
        backendUrl,
        "--invitation",
        INVITATION,
        "--home",
        home(),
        ...trustArgs,
      ],
      {
        stdin: `${PASSWORD}\n`,
      },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/already holds an enrolled member/);
  });

  it("reports an unknown invitation (exit 1) and an unreachable backend (exit 3)", async () => {
    const unknown = await runVettid(
      [
        "enroll",
        "--backend",
        backendUrl,
        "--invitation",
        "NOPE-NOPE-NOPE",
        "--home",
        join(directory, "bob"),
        ...trustArgs,
      ],
      { stdin: `${PASSWORD}\n` },
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/NotFound|not_found|unknown invitation/);
    const port = await freePort();
    const unreachable = await runVettid(
      [
        "enroll",
        "--backend",
        `http://127.0.0.1:${port}`,
        "--invitation",
        INVITATION,
        "--home",
        join(directory, "carol"),
        ...trustArgs,
      ],
      { stdin: `${PASSWORD}\n` },
    );
    expect(unreachable.code).toBe(3);
  });

  it("needs PCRs to trust (or --any-pcrs) before it sends anything (exit 2)", async () => {
    const run = await runVettid(
      [
        "enroll",
        "--backend",
        backendUrl,
        "--invitation",
        INVITATION,
        "--home",
        join(directory, "dave"),
      ],
      {
        stdin: `${PASSWORD}\n`,
      },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--pcr/);
  });
});
