/**
 * `vettid verify-attestation` and `--help`, run as a real child process: real AWS documents at
 * their stated times and today, the flipped-signature variant, the debug document, dev NSM
 * documents with and without `--root`, `--json`, and bad input.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VECTOR_01, VECTOR_03_DEBUG } from "../../clients/sdk/attestation/testing/vectors.js";
import { createDevNsm } from "../../enclave/nsm/index.js";
import { jsonOf, runVettid } from "./run-vettid.js";

const VECTORS = new URL("../../clients/sdk/attestation/testdata/", import.meta.url).pathname;
const DOC_01 = join(VECTORS, "01_veracruz_euw1_2022-11-09.b64");
const DOC_03 = join(VECTORS, "03_blocky_use1_2024-09-07_debug.b64");
const AT_01 = "2022-11-09T23:00:00Z";
const AT_03 = "2024-09-07T14:38:06.508Z";
const PCRS_01 = VECTOR_01.expected.pcrs;

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "vettid-cli-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function file(name: string, content: Uint8Array | string): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, content);
  return path;
}

describe("--help", () => {
  it.each([
    [[]],
    [["verify-attestation"]],
    [["control"]],
    [["control", "keygen"]],
    [["control", "evict-vault"]],
    [["control", "restart-vault"]],
    [["control", "drain-enclave"]],
    [["control", "rotate-parent-credentials"]],
    [["control", "revoke-member-tokens"]],
    [["control", "announce-pcr-update"]],
  ])("vettid %j --help prints usage and exits 0", async (words) => {
    const run = await runVettid([...words, "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: vettid${words.length > 0 ? ` ${words.join(" ")}` : ""}`);
  });

  it("lists every command at the top level", async () => {
    const run = await runVettid(["--help"]);
    for (const name of ["verify-attestation", "control"]) expect(run.stdout).toContain(name);
  });

  it("an unknown command or option exits 2 with a hint", async () => {
    const unknown = await runVettid(["no-such-command"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command");
    const option = await runVettid(["verify-attestation", DOC_01, "--no-such-option"]);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("--help");
  });
});

describe("real AWS documents", () => {
  it("01 verifies at its stated time (exit 0), in text", async () => {
    const run = await runVettid(["verify-attestation", DOC_01, "--at", AT_01]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^verified: .*AWS Nitro root G1/);
    expect(run.stdout).toContain(PCRS_01["0"]);
  });

  it("01 verifies with its PCRs, nonce and age given, and fails PCR_MISMATCH with another PCR0", async () => {
    const pcrArgs = [0, 1, 2].flatMap((i) => ["--pcr", `${i}=${PCRS_01[String(i)]}`]);
    const nonce = VECTOR_01.expected.nonce?.hex ?? "";
    const ok = await runVettid([
      "verify-attestation",
      DOC_01,
      "--at",
      AT_01,
      "--nonce",
      nonce,
      "--max-age",
      "600",
      "--json",
      ...pcrArgs,
    ]);
    expect(ok.code).toBe(0);
    expect(jsonOf(ok)).toMatchObject({ valid: true, pcrsChecked: true, trustRoot: "AWS_NITRO_G1" });
    const wrong = await runVettid([
      "verify-attestation",
      DOC_01,
      "--at",
      AT_01,
      "--json",
      ...pcrArgs.slice(2),
      "--pcr",
      `0=${"ab".repeat(48)}`,
    ]);
    expect(wrong.code).toBe(1);
    expect(jsonOf(wrong)).toMatchObject({ valid: false, failure: "PCR_MISMATCH" });
  });

  it("01 fails at today's date and now (exit 1, CERTIFICATE_EXPIRED)", async () => {
    for (const extra of [["--at", "2026-11-23T12:00:00Z"], []]) {
      const run = await runVettid(["verify-attestation", DOC_01, ...extra]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^refused: CERTIFICATE_EXPIRED/);
    }
  });

  it("01 fails TOO_OLD with a maximum age below its 8 minutes, and NONCE_MISMATCH with another nonce", async () => {
    const old = await runVettid([
      "verify-attestation",
      DOC_01,
      "--at",
      AT_01,
      "--max-age",
      "300",
      "--json",
    ]);
    expect(old.code).toBe(1);
    expect(jsonOf(old).failure).toBe("TOO_OLD");
    const nonce = await runVettid([
      "verify-attestation",
      DOC_01,
      "--at",
      AT_01,
      "--nonce",
      "00".repeat(32),
      "--json",
    ]);
    expect(nonce.code).toBe(1);
    expect(jsonOf(nonce).failure).toBe("NONCE_MISMATCH");
  });

  it("01 with the last signature byte flipped (0xd4 → 0xd5) fails SIGNATURE, given as raw CBOR", async () => {
    const raw = VECTOR_01.raw.slice();
    expect(raw[raw.length - 1]).toBe(0xd4);
    raw[raw.length - 1] = 0xd5;
    const path = await file("01-bad-signature.cbor", raw);
    const run = await runVettid(["verify-attestation", path, "--at", AT_01, "--json"]);
    expect(run.code).toBe(1);
    expect(jsonOf(run)).toMatchObject({ valid: false, failure: "SIGNATURE" });
  });

  it("reads raw CBOR and base64 from stdin with -", async () => {
    const raw = await runVettid(["verify-attestation", "-", "--at", AT_01], {
      stdin: VECTOR_01.raw,
    });
    expect(raw.code).toBe(0);
    const base64 = await runVettid(["verify-attestation", "-", "--at", AT_01], {
      stdin: `${Buffer.from(VECTOR_01.raw).toString("base64")}\n`,
    });
    expect(base64.code).toBe(0);
  });

  it("03 (debug) fails DEBUG_MODE unless --allow-debug", async () => {
    const refused = await runVettid(["verify-attestation", DOC_03, "--at", AT_03, "--json"]);
    expect(refused.code).toBe(1);
    const json = jsonOf(refused);
    expect(json).toMatchObject({ valid: false, failure: "DEBUG_MODE", trustRoot: "AWS_NITRO_G1" });
    expect(String(json.detail)).toContain("debug mode");
    const allowed = await runVettid(["verify-attestation", DOC_03, "--at", AT_03, "--allow-debug"]);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/^verified/);
  });
});

describe("dev NSM documents", () => {
  it("are refused DEV_ROOT_NOT_ALLOWED unless --root names the dev root's certificate", async () => {
    const nsm = createDevNsm();
    const document = await nsm.attest({
      publicKey: new Uint8Array(32).fill(1),
      nonce: new Uint8Array(32).fill(2),
    });
    const path = await file("dev.cbor", document);
    const refused = await runVettid(["verify-attestation", path, "--json"]);
    expect(refused.code).toBe(1);
    expect(jsonOf(refused).failure).toBe("DEV_ROOT_NOT_ALLOWED");
    const root = await file("dev-root.pem", (await nsm.rootCertificate()).pem);
    const allowed = await runVettid([
      "verify-attestation",
      path,
      "--root",
      root,
      "--nonce",
      "02".repeat(32),
      "--max-age",
      "300",
      "--json",
    ]);
    expect(allowed.code).toBe(0);
    expect(jsonOf(allowed)).toMatchObject({ valid: true, trustRoot: "DEV_NSM" });
    const otherRoot = await file("other-root.pem", (await createDevNsm().rootCertificate()).pem);
    const other = await runVettid(["verify-attestation", path, "--root", otherRoot, "--json"]);
    expect(other.code).toBe(1);
    expect(jsonOf(other).failure).toBe("UNTRUSTED_ROOT");
  });
});

describe("bad input exits 2 with a message naming the problem", () => {
  it.each([
    [
      "a missing file",
      async () => ["verify-attestation", join(directory, "missing.b64")],
      /no such file/,
    ],
    [
      "text that is not base64",
      async () => ["verify-attestation", await file("text.txt", "hello, world!")],
      /neither raw CBOR nor base64/,
    ],
    ["an empty file", async () => ["verify-attestation", await file("empty", "")], /empty/],
    ["a bad --at", async () => ["verify-attestation", DOC_01, "--at", "yesterday"], /ISO 8601/],
    ["a bad --nonce", async () => ["verify-attestation", DOC_01, "--nonce", "xyz"], /hex/],
    [
      "a --pcr without PCR1 and PCR2",
      async () => ["verify-attestation", DOC_01, "--pcr", `0=${PCRS_01["0"]}`],
      /PCR1/,
    ],
    ["a short --pcr", async () => ["verify-attestation", DOC_01, "--pcr", "0=abcd"], /48 bytes/],
    [
      "a --root that is not a certificate",
      async () => ["verify-attestation", DOC_01, "--root", await file("root.pem", "nope")],
      /not a PEM/,
    ],
    ["no file at all", async () => ["verify-attestation"], /missing required argument/],
  ])("%s", async (_name, args, message) => {
    const run = await runVettid(await args());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it("with --json, a usage error is one JSON document naming it", async () => {
    const run = await runVettid(["verify-attestation", join(directory, "missing.b64"), "--json"]);
    expect(run.code).toBe(2);
    expect(jsonOf(run)).toMatchObject({ error: { code: "usage" }, exitCode: 2 });
  });

  it("garbage CBOR is a refusal (exit 1, MALFORMED_CBOR), not a crash", async () => {
    const path = await file("garbage.cbor", Uint8Array.of(0x84, 0x41));
    const run = await runVettid(["verify-attestation", path, "--json"]);
    expect(run.code).toBe(1);
    expect(jsonOf(run)).toMatchObject({ valid: false, failure: "MALFORMED_CBOR", document: null });
    expect(VECTOR_03_DEBUG.raw.length).toBeGreaterThan(0);
  });
});
