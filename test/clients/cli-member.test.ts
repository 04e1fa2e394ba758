/**
 * The member commands (`vettid unlock`, `vault status|lock`, `secrets …`) as a child process
 * against the real enclave stack. The member's home is prepared as enrollment leaves it (the
 * vault created through ProvisioningService, the credential, an nkey seed and the NATS URL), since
 * enrollment itself needs the backend: `vettid enroll` runs the SDK's `enroll`, whose flow the
 * SDK's own tests cover.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { createUser } from "@nats-io/nkeys";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemberStore, type MemberStore } from "../../clients/sdk/member/index.js";
import { createFileSecureStorage } from "../../clients/sdk/storage/index.js";
import { NatsCredentialsSchema } from "../../gen/vettid/enrollment/v1/nats_credentials_pb.js";
import { type EnclaveStack, startEnclaveStack } from "../support/enclave-stack.js";
import { jsonOf, runVettid } from "./run-vettid.js";
import { createMemberVault, stackTrust } from "./vault-fixture.js";

const PASSWORD = "a long and careful password";
const PIN = "135790";

let stack: EnclaveStack;
let directory: string;
let home: string;
let trustArgs: string[];
let member: MemberStore;
const ownerGuid = randomUUID();

beforeAll(async () => {
  stack = await startEnclaveStack();
  directory = await mkdtemp(join(tmpdir(), "vettid-cli-member-"));
  home = join(directory, "home");
  const trust = await stackTrust(stack);
  member = createMemberStore(await createFileSecureStorage(join(home, "secure")));
  await createMemberVault({ stack, member, trust, password: PASSWORD, ownerGuid });
  const nkey = createUser();
  await member.saveEnrollment({
    ownerGuid,
    nkeySeed: nkey.getSeed(),
    natsCredentials: create(NatsCredentialsSchema, {
      userJwt: "not-checked-by-the-test-server",
      userNkeyPublic: nkey.getPublicKey(),
      serverUrls: [stack.nats.url],
    }),
  });
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
}, 90_000);
afterAll(async () => {
  await stack?.close();
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
});

function vettid(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}) {
  return runVettid([...args, "--home", home, ...trustArgs], options);
}

describe("vettid for a member", () => {
  it("vault status: a new vault is uninitialized", async () => {
    const run = await vettid(["vault", "status", "--json"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(jsonOf(run)).toMatchObject({
      ownerGuid,
      state: "UNINITIALIZED",
      matchedPcrSet: "configured",
    });
  });

  it("unlock sets the PIN the first time (PIN on stdin)", async () => {
    const run = await vettid(["unlock"], { stdin: `${PIN}\n` });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("PIN set");
    const status = await vettid(["vault", "status"]);
    expect(status.stdout).toMatch(/^vault unlocked/);
  });

  it("secrets put, list and get a standard secret", async () => {
    expect(
      (await vettid(["secrets", "put", "wifi", "--value", "hunter2", "--category", "login"])).code,
    ).toBe(0);
    const list = await vettid(["secrets", "list", "--json"]);
    expect(jsonOf(list).secrets).toEqual([
      expect.objectContaining({ name: "wifi", category: "LOGIN", protection: "STANDARD" }),
    ]);
    const get = await vettid(["secrets", "get", "wifi"]);
    expect(get.code).toBe(0);
    expect(get.stdout).toBe("hunter2\n");
  });

  it("a protected secret takes the password; the rotated credential is stored", async () => {
    const put = await vettid(
      ["secrets", "put", "seed", "--value", "abandon ability", "--protected"],
      {
        env: { VETTID_PASSWORD: PASSWORD },
      },
    );
    expect(put.stderr).not.toContain("vettid:");
    expect(put.code).toBe(0);
    expect((await member.credentials.current())?.cekVersion).toBe(2n);
    const get = await vettid(["secrets", "get", "seed", "--json"], { stdin: `${PASSWORD}\n` });
    expect(get.code).toBe(0);
    expect(jsonOf(get)).toMatchObject({ name: "seed", value: "abandon ability" });
    expect((await member.credentials.current())?.cekVersion).toBe(3n);
    const wrong = await vettid(["secrets", "get", "seed"], { stdin: "not the password\n" });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/PermissionDenied|permission/i);
  });

  it("secrets delete removes it", async () => {
    expect((await vettid(["secrets", "delete", "wifi"])).code).toBe(0);
    const list = await vettid(["secrets", "list", "--json"]);
    expect(jsonOf(list).secrets).toEqual([expect.objectContaining({ name: "seed" })]);
    expect((await vettid(["secrets", "delete", "wifi"])).code).toBe(2);
  });

  it("vault lock, then a wrong PIN exits 1 with the attempts left, the right one exits 0", async () => {
    const lock = await vettid(["vault", "lock", "--json"]);
    expect(jsonOf(lock)).toMatchObject({ state: "LOCKED" });
    const wrong = await vettid(["unlock", "--json"], { stdin: "000000\n" });
    expect(wrong.code).toBe(1);
    expect(jsonOf(wrong)).toMatchObject({ result: "WRONG_PIN", attemptsRemaining: 2 });
    const right = await vettid(["unlock"], { env: { VETTID_PIN: PIN } });
    expect(right.code).toBe(0);
    expect(right.stdout).toContain("unlocked");
  });

  it("refuses an enclave of another build (exit 1) and a home with no member (exit 2)", async () => {
    const other = await runVettid([
      "vault",
      "status",
      "--home",
      home,
      "--pcr",
      `0=${"11".repeat(48)}`,
      "--pcr",
      `1=${"22".repeat(48)}`,
      "--pcr",
      `2=${"33".repeat(48)}`,
      "--root",
      trustArgs[1] as string,
    ]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/PCR_MISMATCH/);
    const empty = await runVettid([
      "vault",
      "status",
      "--home",
      join(directory, "nobody"),
      ...trustArgs,
    ]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/no member enrolled/);
  });

  it("--help works for each member command", async () => {
    for (const words of [
      ["enroll"],
      ["unlock"],
      ["vault"],
      ["vault", "status"],
      ["vault", "lock"],
      ["secrets"],
      ["secrets", "get"],
      ["secrets", "put"],
      ["secrets", "list"],
      ["secrets", "delete"],
    ]) {
      const run = await runVettid([...words, "--help"]);
      expect(run.code, words.join(" ")).toBe(0);
      expect(run.stdout).toContain(`Usage: vettid ${words.join(" ")}`);
    }
  }, 60_000);
});
