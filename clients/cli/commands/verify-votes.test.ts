/**
 * `vettid verify-votes`, run in-process through the CLI's own runner: a genuine list (JSON and
 * binary) verifies with exit 0; any tampering exits 1 naming the discrepancy; bad input exits 2.
 */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { clone } from "@bufbuild/protobuf";
import type { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type PublishedVoteList,
  PublishedVoteListSchema,
} from "../../../gen/vettid/voting/v1/vote_list_pb.js";
import { buildSampleList } from "../../../test/voting/support/sample-list.js";
import {
  createVotingFixture,
  type VotingFixture,
} from "../../../test/voting/support/voting-fixture.js";
import { encodeVoteListBinary, encodeVoteListJson } from "../../sdk/voting/index.js";
import type { CliIo } from "../output.js";
import { runCli } from "../program.js";
import { registerVerifyVotes } from "./verify-votes.js";

let fixture: VotingFixture;
let list: PublishedVoteList;
let directory: string;
let trustFlags: string[];

function capture(): { io: CliIo; stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  return {
    io: {
      stdout: sink((s) => (out += s)),
      stderr: sink((s) => (err += s)),
      stdin: process.stdin,
      env: {},
    },
    stdout: () => out,
    stderr: () => err,
  };
}

async function run(args: string[]) {
  const { io, stdout, stderr } = capture();
  const code = await runCli(
    ["node", "vettid", ...args],
    [(program: Command, cliIo: CliIo) => registerVerifyVotes(program, cliIo)],
    io,
  );
  return { code, stdout: stdout(), stderr: stderr() };
}

async function file(name: string, content: Uint8Array | string): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, content);
  return path;
}

beforeAll(async () => {
  fixture = await createVotingFixture();
  list = (await buildSampleList(fixture, 30)).list;
  directory = await mkdtemp(join(tmpdir(), "vettid-verify-votes-"));
  const spki = Buffer.from((await fixture.orgSigner.describe()).spki);
  const pem = `-----BEGIN PUBLIC KEY-----\n${spki.toString("base64").replace(/(.{64})/g, "$1\n")}\n-----END PUBLIC KEY-----\n`;
  const { pcrs } = await fixture.nsm.describePcrs();
  trustFlags = [
    "--org-key",
    await file("org.pem", pem),
    "--root",
    await file("root.pem", (await fixture.nsm.rootCertificate()).pem),
    ...pcrs
      .filter((p) => p.index <= 2)
      .flatMap((p) => ["--pcr", `${p.index}=${Buffer.from(p.value).toString("hex")}`]),
    "--workers",
    "2",
  ];
}, 60_000);

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("vettid verify-votes", () => {
  it("verifies a genuine JSON list: exit 0, recount and root printed", async () => {
    const path = await file("list.json", encodeVoteListJson(list));
    const result = await run(["verify-votes", path, ...trustFlags]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("VERIFIED");
    expect(result.stdout).toContain("entries:     30 (30 valid)");
    expect(result.stdout).toContain(Buffer.from(list.merkleRoot).toString("hex"));
  });

  it("verifies the binary list too, and reports as JSON with --json", async () => {
    const path = await file("list.binpb", encodeVoteListBinary(list));
    const result = await run(["verify-votes", path, ...trustFlags, "--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      verified: boolean;
      format: string;
      entries: number;
      counts: { choice: string; count: number }[];
    };
    expect(report).toMatchObject({ verified: true, format: "binary", entries: 30 });
    expect(report.counts.reduce((sum, c) => sum + c.count, 0)).toBe(30);
  });

  it("exits 1 and names the discrepancy for a changed choice, a dropped vote, a bad signature", async () => {
    const cases: [string, (l: PublishedVoteList) => void, RegExp][] = [
      [
        "choice",
        (l) => {
          const e = l.entries[4];
          if (e) e.choice = e.choice === 1 ? 2 : 1;
        },
        /entry 4 .*listed choice differs/,
      ],
      [
        "dropped",
        (l) => {
          l.entries.splice(10, 1);
        },
        /29 entries; the signed head says 30/,
      ],
      [
        "signature",
        (l) => {
          const v = l.entries[7]?.signedVote;
          if (v) v.votingSignature = v.votingSignature.map((b, i) => (i === 0 ? b ^ 1 : b));
        },
        /entry 7 .*voting signature does not verify/,
      ],
      [
        "countersignature",
        (l) => {
          const v = l.entries[0]?.signedVote;
          if (v) v.enclaveCountersignature = new Uint8Array(64);
        },
        /entry 0 .*countersignature does not verify/,
      ],
      [
        "head count",
        (l) => {
          const c = l.counts[1];
          if (c) c.count += 1n;
        },
        /counts differ from the signed head/,
      ],
    ];
    for (const [name, mutate, expected] of cases) {
      const tampered = clone(PublishedVoteListSchema, list);
      mutate(tampered);
      const path = await file(`${name}.json`, encodeVoteListJson(tampered));
      const result = await run(["verify-votes", path, ...trustFlags]);
      expect(result.code, name).toBe(1);
      expect(result.stdout, name).toContain("NOT VERIFIED");
      expect(result.stdout, name).toMatch(expected);
    }
  });

  it("exits 1 when the org key given is not the one that signed", async () => {
    const other = await createVotingFixture();
    const spki = Buffer.from((await other.orgSigner.describe()).spki);
    const path = await file("list2.json", encodeVoteListJson(list));
    const flags = [...trustFlags];
    flags[1] = await file("other.der", spki);
    const result = await run(["verify-votes", path, ...flags]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/not a pinned key/);
  });

  it("exits 1 when the enclave build is not the accepted one", async () => {
    const path = await file("list3.json", encodeVoteListJson(list));
    const flags = trustFlags.map((flag) =>
      flag.startsWith("0=") ? `0=${"00".repeat(47)}01` : flag,
    );
    const result = await run(["verify-votes", path, ...flags]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/PCR_MISMATCH/);
  });

  it("exits 2 for bad input: no org key, no enclave build, no such file, not a list", async () => {
    const path = await file("list4.json", encodeVoteListJson(list));
    expect((await run(["verify-votes", path])).code).toBe(2);
    expect((await run(["verify-votes", path, "--org-key", trustFlags[1] as string])).code).toBe(2);
    expect((await run(["verify-votes", join(directory, "missing.json"), ...trustFlags])).code).toBe(
      2,
    );
    const garbage = await run([
      "verify-votes",
      await file("garbage.json", "{ not json"),
      ...trustFlags,
    ]);
    expect(garbage.code).toBe(1);
    expect(garbage.stdout).toMatch(/not a vote list/);
  });
});
