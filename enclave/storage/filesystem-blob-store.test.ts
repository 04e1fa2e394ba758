import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BlobStore, PutResult } from "./blob-store.js";
import {
  createFilesystemBlobStore,
  DEFAULT_RETAINED_GENERATIONS,
} from "./filesystem-blob-store.js";
import { DATA_FILE, generationName, SLOT_HEADER_BYTES } from "./filesystem-layout.js";
import { describeBlobStoreContract } from "./testing/blob-store-contract.js";

describeBlobStoreContract("filesystem", async () => {
  const directory = await mkdtemp(join(tmpdir(), "blob-store-contract-"));
  return {
    store: createFilesystemBlobStore({ directory: join(directory, "store") }),
    cleanup: () => rm(directory, { recursive: true, force: true }),
  };
});

const KEY = "vaults/3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b/snapshot";
const OBJECT_DIRECTORY = `${KEY}~v`;
/** The `data` file of generation `generation` of KEY. */
const dataFile = (generation: number): string =>
  join(root, OBJECT_DIRECTORY, generationName(generation), DATA_FILE);
const text = (value: string): Uint8Array => new TextEncoder().encode(value);

function versionOf(result: PutResult): string {
  if (result.outcome !== "ok") throw new Error(`expected an ok put, got ${result.outcome}`);
  return result.version;
}

let base: string;
let root: string;
let store: BlobStore;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "filesystem-blob-store-"));
  root = join(base, "store");
  store = createFilesystemBlobStore({ directory: root });
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("filesystem blob store: on disk", () => {
  it("writes one generation directory per write, private, with no working files left", async () => {
    const v1 = versionOf(await store.put(KEY, text("one"), { mode: "create_only" }));
    await store.put(KEY, text("two"), { mode: "if_version_matches", version: v1 });
    const directory = join(root, OBJECT_DIRECTORY);
    expect((await readdir(directory)).sort()).toEqual([0, 1, 2].map(generationName));
    expect(await readdir(join(directory, generationName(0)))).toEqual([]);
    expect(await readdir(join(directory, generationName(2)))).toEqual([DATA_FILE]);
    expect(await readdir(join(root, "vaults", "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"))).toEqual([
      "snapshot~v",
    ]);
    expect((await stat(root)).mode & 0o777).toBe(0o700);
    expect((await stat(directory)).mode & 0o777).toBe(0o700);
    expect((await stat(dataFile(2))).mode & 0o777).toBe(0o600);
    const file = await readFile(dataFile(2));
    expect(file.subarray(0, 4).toString("latin1")).toBe("VBS1");
    expect(file.subarray(SLOT_HEADER_BYTES).toString()).toBe("two");
  });

  it("versions are the generation and the SHA-256 of the bytes", async () => {
    const version = versionOf(await store.put(KEY, text("abc"), { mode: "create_only" }));
    expect(version).toBe("1-ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it(`keeps the last ${DEFAULT_RETAINED_GENERATIONS} generations by default, and older versions read as not_found`, async () => {
    const versions: string[] = [];
    for (let index = 0; index < 7; index++) {
      versions.push(versionOf(await store.put(KEY, text(`v${index}`), { mode: "overwrite" })));
    }
    const names = (await readdir(join(root, OBJECT_DIRECTORY))).sort();
    expect(names).toEqual([4, 5, 6, 7].map(generationName));
    expect(await store.get(KEY, versions[2])).toEqual({ outcome: "not_found" });
    expect(await store.get(KEY, versions[3])).toMatchObject({ outcome: "ok" });
  });

  it("keeps as many generations as retainedGenerations says", async () => {
    const single = createFilesystemBlobStore({ directory: root, retainedGenerations: 1 });
    for (let index = 0; index < 3; index++) {
      await single.put(KEY, text(`v${index}`), { mode: "overwrite" });
    }
    expect(await readdir(join(root, OBJECT_DIRECTORY))).toEqual([generationName(3)]);
    const got = await single.get(KEY);
    expect(got.outcome === "ok" && new TextDecoder().decode(got.data)).toBe("v2");
  });

  it("a delete leaves a tombstone generation, so generations go on after it", async () => {
    await store.put(KEY, text("a"), { mode: "create_only" });
    await store.delete(KEY);
    const version = versionOf(await store.put(KEY, text("a"), { mode: "create_only" }));
    expect(version.startsWith("3-")).toBe(true);
    const tombstone = await readFile(dataFile(2));
    expect(tombstone).toHaveLength(SLOT_HEADER_BYTES);
  });

  it("reports an object whose bytes do not match their digest as corrupt, naming the file", async () => {
    await store.put(KEY, text("precious"), { mode: "create_only" });
    const path = dataFile(1);
    const file = await readFile(path);
    file.writeUInt8(file.readUInt8(file.length - 1) ^ 1, file.length - 1);
    await writeFile(path, file);
    await expect(store.get(KEY)).rejects.toMatchObject({
      code: "corrupt",
      message: `stored object file ${path} does not match the SHA-256 in its header`,
    });
  });

  it("reports a generation file that is not one as corrupt", async () => {
    await store.put(KEY, text("x"), { mode: "create_only" });
    const path = dataFile(2);
    await mkdir(join(path, ".."));
    await writeFile(path, "garbage");
    await expect(store.get(KEY)).rejects.toMatchObject({
      code: "corrupt",
      message: expect.stringContaining("shorter than its 37-byte header"),
    });
    await expect(store.put(KEY, text("y"), { mode: "overwrite" })).rejects.toMatchObject({
      code: "corrupt",
    });
  });

  it("removes the staging and trash directories of killed writers, and only theirs", async () => {
    await store.put(KEY, text("a"), { mode: "create_only" });
    const directory = join(root, OBJECT_DIRECTORY);
    // A process that has exited: its working directories are debris from a killed write.
    const child = spawn(process.execPath, ["-e", ""]);
    await once(child, "exit");
    const gone = `.stage-${child.pid}-0123abcd`;
    const alive = `.stage-${process.pid}-4567ef01`;
    const trash = `.trash-${child.pid}-89abcdef`;
    const current = join(directory, generationName(1));
    for (const name of [gone, alive]) {
      await mkdir(join(current, name));
      await writeFile(join(current, name, DATA_FILE), "half a write");
    }
    await mkdir(join(directory, trash, generationName(0)), { recursive: true });
    const got = await store.get(KEY);
    expect(got.outcome === "ok" && new TextDecoder().decode(got.data)).toBe("a");
    await store.put(KEY, text("b"), { mode: "overwrite" });
    expect((await readdir(current)).sort()).toEqual([alive, DATA_FILE]);
    expect(await readdir(directory)).not.toContain(trash);
  });

  it("reports an object directory without generations as corrupt", async () => {
    await mkdir(join(root, OBJECT_DIRECTORY), { recursive: true });
    for (const call of [store.get(KEY), store.put(KEY, text("x"), { mode: "overwrite" })]) {
      await expect(call).rejects.toMatchObject({
        code: "corrupt",
        message: expect.stringContaining("holds no generation directory"),
      });
    }
  });

  it("answers not_found for a version naming a generation that holds other bytes", async () => {
    await store.put(KEY, text("a"), { mode: "create_only" });
    const other = `1-${"0".repeat(64)}`;
    expect(await store.get(KEY, other)).toEqual({ outcome: "not_found" });
    expect(await store.get(KEY, `99-${"0".repeat(64)}`)).toEqual({ outcome: "not_found" });
  });

  it("ignores folders and files that are not objects when listing", async () => {
    await store.put("k/a", text("a"), { mode: "create_only" });
    await mkdir(join(root, "k", "bad name~v"), { recursive: true });
    await writeFile(join(root, "k", "stray-file"), "x");
    const keys: string[] = [];
    for await (const entry of store.list("k/")) keys.push(entry.key);
    expect(keys).toEqual(["k/a"]);
  });

  it("refuses objects over maxObjectBytes", async () => {
    const small = createFilesystemBlobStore({ directory: root, maxObjectBytes: 4 });
    await expect(small.put(KEY, text("12345"), { mode: "overwrite" })).rejects.toMatchObject({
      code: "invalid_argument",
      message: `data for blob key "${KEY}" is 5 bytes, over the limit of 4`,
    });
    expect(await small.put(KEY, text("1234"), { mode: "overwrite" })).toMatchObject({
      outcome: "ok",
    });
  });

  it("refuses bad options, naming them", () => {
    expect(() => createFilesystemBlobStore({ directory: "" })).toThrow(
      "directory must be a non-empty path",
    );
    expect(() => createFilesystemBlobStore({ directory: root, retainedGenerations: 0 })).toThrow(
      "retainedGenerations must be an integer of at least 1, not 0",
    );
    expect(() => createFilesystemBlobStore({ directory: root, maxObjectBytes: -1 })).toThrow(
      "maxObjectBytes must be a non-negative integer, not -1",
    );
  });

  it("reports an unusable directory as unavailable, naming the key", async () => {
    await writeFile(join(base, "file"), "not a directory");
    const broken = createFilesystemBlobStore({ directory: join(base, "file", "store") });
    await expect(broken.put(KEY, text("x"), { mode: "overwrite" })).rejects.toMatchObject({
      code: "unavailable",
      message: `cannot write blob key "${KEY}": ENOTDIR`,
    });
    expect(await broken.get(KEY)).toEqual({ outcome: "not_found" });
  });

  it("two stores on one directory in one process: still exactly one winner", async () => {
    const other = createFilesystemBlobStore({ directory: root });
    const v1 = versionOf(await store.put(KEY, text("base"), { mode: "create_only" }));
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        (index % 2 === 0 ? store : other).put(KEY, text(`w${index}`), {
          mode: "if_version_matches",
          version: v1,
        }),
      ),
    );
    expect(results.filter((result) => result.outcome === "ok")).toHaveLength(1);
  });
});
