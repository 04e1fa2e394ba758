import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha384 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { codeBundleListing, listCodeBundle, measureCodeBundle } from "./code-bundle.js";
import { defaultDevPcrInputs } from "./dev-pcrs.js";

/** The shell line documented on measureCodeBundle, run in `dir`. */
function coreutilsMeasurement(dir: string): string {
  const script =
    "find . \\( -name '.*' ! -name . -o -name node_modules -o -name testdata -o -name testing \\) -prune " +
    "-o -type f ! -name '*.test.ts' -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha384sum | sha384sum";
  return execFileSync("bash", ["-c", script], { cwd: dir, encoding: "utf8" }).split(" ")[0] ?? "";
}

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "code-bundle-"));
  await mkdir(join(dir, "nsm", "testdata"), { recursive: true });
  await mkdir(join(dir, "nsm", "testing"), { recursive: true });
  await mkdir(join(dir, "vault-manager"), { recursive: true });
  await mkdir(join(dir, "node_modules", "x"), { recursive: true });
  await writeFile(join(dir, "nsm", "nsm.ts"), "export const a = 1;\n");
  await writeFile(join(dir, "nsm", "nsm.test.ts"), "test\n");
  await writeFile(join(dir, "nsm", "testdata", "vector.b64"), "AAAA\n");
  await writeFile(join(dir, "nsm", "testing", "helper.ts"), "helper\n");
  await writeFile(join(dir, "nsm", "Z-upper.ts"), "upper\n");
  await writeFile(join(dir, "nsm-extra.ts"), "dash sorts before slash\n");
  await writeFile(join(dir, "vault-manager", "main.ts"), "main\n");
  await writeFile(join(dir, "node_modules", "x", "index.js"), "dep\n");
  await writeFile(join(dir, ".env"), "hidden\n");
  await symlink(join(dir, "vault-manager", "main.ts"), join(dir, "link.ts"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("code bundle", () => {
  it("lists regular source files in byte order, leaving out tests, test data, helpers, dependencies, dot-files and links", async () => {
    const entries = await listCodeBundle(dir);
    expect(entries.map((entry) => entry.path)).toEqual([
      "nsm-extra.ts",
      "nsm/Z-upper.ts",
      "nsm/nsm.ts",
      "vault-manager/main.ts",
    ]);
    expect(entries[2]?.sha384).toEqual(sha384(new TextEncoder().encode("export const a = 1;\n")));
  });

  it("hashes a sha384sum-style listing", async () => {
    const entries = await listCodeBundle(dir);
    const listing = codeBundleListing(entries);
    expect(listing.split("\n")[0]).toBe(
      `${bytesToHex(sha384(new TextEncoder().encode("dash sorts before slash\n")))}  nsm-extra.ts`,
    );
    expect(await measureCodeBundle(dir)).toEqual(sha384(new TextEncoder().encode(listing)));
  });

  it("is recomputed by the documented coreutils line, here and on the real enclave/", async () => {
    expect(bytesToHex(await measureCodeBundle(dir))).toBe(coreutilsMeasurement(dir));
    const enclave = defaultDevPcrInputs().codeDir;
    expect(bytesToHex(await measureCodeBundle(enclave))).toBe(coreutilsMeasurement(enclave));
  });

  it("changes with a source file, not with a test, test data or test helper", async () => {
    const before = await measureCodeBundle(dir);
    await writeFile(join(dir, "nsm", "nsm.test.ts"), "changed\n");
    await writeFile(join(dir, "nsm", "testdata", "vector.b64"), "changed\n");
    await writeFile(join(dir, "nsm", "testing", "helper.ts"), "changed\n");
    expect(await measureCodeBundle(dir)).toEqual(before);
    await writeFile(join(dir, "nsm", "nsm.ts"), "export const a = 2;\n");
    expect(await measureCodeBundle(dir)).not.toEqual(before);
  });

  it("changes when a file is renamed", async () => {
    const before = await measureCodeBundle(dir);
    await rm(join(dir, "vault-manager", "main.ts"));
    await writeFile(join(dir, "vault-manager", "start.ts"), "main\n");
    expect(await measureCodeBundle(dir)).not.toEqual(before);
  });

  it("refuses a directory it cannot read, and paths sha384sum would escape", async () => {
    await expect(measureCodeBundle(join(dir, "missing"))).rejects.toMatchObject({
      code: "state_invalid",
      message: expect.stringContaining("missing"),
    });
    await writeFile(join(dir, "bad\\name.ts"), "x");
    await expect(measureCodeBundle(dir)).rejects.toThrow(/newline or a backslash/);
  });
});
