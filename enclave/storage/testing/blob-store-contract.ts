/**
 * Test-only: the behaviour every {@link BlobStore} must show, as a vitest suite to run against
 * each implementation (`describeBlobStoreContract("filesystem", …)`). Uses only the public
 * interface, so a new store (in memory, S3 against a real bucket) gets the same checks.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BlobStore, PutResult } from "../blob-store.js";

/** A store to test, and how to dispose of it afterwards. */
export interface ContractSubject {
  readonly store: BlobStore;
  readonly cleanup: () => Promise<void>;
}

const KEY = "vaults/3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b/snapshot";
const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const decode = (data: Uint8Array): string => new TextDecoder().decode(data);

/** The outcome of `result`, with its version when it has one. */
function versionOf(result: PutResult): string {
  if (result.outcome !== "ok") throw new Error(`expected an ok put, got ${result.outcome}`);
  return result.version;
}

/** Keys every store must refuse, and a part of the message naming the problem. */
export const BAD_KEYS: ReadonlyArray<readonly [unknown, string]> = [
  ["", "must not be empty"],
  ["/vaults/a/snapshot", "must be relative"],
  ["vaults/a/", "ends with '/'"],
  ["vaults//snapshot", "empty segment"],
  ["vaults/../etc/passwd", "'..' segment (path traversal)"],
  ["..", "'..' segment"],
  ["vaults/./snapshot", "'.' segment"],
  ["vaults/.hidden", "starting with '.'"],
  ["vaults/a b", "a space (U+0020)"],
  ["vaults\\a", "a backslash (U+005C)"],
  ["vaults/a\u0000b", "a control character (U+0000)"],
  ["vaults/a~v", "'~' (U+007E)"],
  ["vaults/é", "'é' (U+00E9)"],
  ["vaults/a:b", "':' (U+003A)"],
  [`v/${"a".repeat(201)}`, "over the limit of 200"],
  [`${"abcdefgh/".repeat(114)}abc`, "over the limit of 1024"],
  [42, "must be a string, not a number"],
  [undefined, "must be a string, not undefined"],
];

/**
 * Registers the contract tests for the store `setup` makes (a fresh, empty one per test).
 */
export function describeBlobStoreContract(
  name: string,
  setup: () => Promise<ContractSubject>,
): void {
  describe(`BlobStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: BlobStore;

    beforeEach(async () => {
      subject = await setup();
      store = subject.store;
    });

    afterEach(async () => {
      await subject.cleanup();
    });

    describe("get", () => {
      it("answers not_found for a key never written", async () => {
        expect(await store.get(KEY)).toEqual({ outcome: "not_found" });
      });

      it("returns the bytes, their version and a modification time", async () => {
        const version = versionOf(await store.put(KEY, text("v1"), { mode: "create_only" }));
        const got = await store.get(KEY);
        expect(got).toMatchObject({ outcome: "ok", version });
        if (got.outcome !== "ok") return;
        expect(decode(got.data)).toBe("v1");
        expect(Number.isSafeInteger(got.modifiedAtMs) && got.modifiedAtMs > 0).toBe(true);
      });

      it("reads an earlier version by its version, and answers not_found for unknown ones", async () => {
        const first = versionOf(await store.put(KEY, text("one"), { mode: "create_only" }));
        const second = versionOf(
          await store.put(KEY, text("two"), { mode: "if_version_matches", version: first }),
        );
        const old = await store.get(KEY, first);
        expect(old.outcome === "ok" && decode(old.data)).toBe("one");
        const current = await store.get(KEY, second);
        expect(current.outcome === "ok" && decode(current.data)).toBe("two");
        expect(await store.get(KEY, "no-such-version")).toEqual({ outcome: "not_found" });
        expect(await store.get("vaults/other/snapshot", first)).toEqual({ outcome: "not_found" });
      });

      it("stores empty objects", async () => {
        const version = versionOf(await store.put(KEY, new Uint8Array(0), { mode: "overwrite" }));
        expect(await store.get(KEY)).toMatchObject({ outcome: "ok", version });
        const got = await store.get(KEY);
        expect(got.outcome === "ok" && got.data.byteLength).toBe(0);
      });

      it("is not affected by changes to the caller's arrays", async () => {
        const data = text("original");
        await store.put(KEY, data, { mode: "create_only" });
        data.fill(0);
        const first = await store.get(KEY);
        expect(first.outcome === "ok" && decode(first.data)).toBe("original");
        if (first.outcome === "ok") first.data.fill(0);
        const second = await store.get(KEY);
        expect(second.outcome === "ok" && decode(second.data)).toBe("original");
      });
    });

    describe("put", () => {
      it("create_only: writes when absent, answers version_conflict with the current version when present", async () => {
        const version = versionOf(await store.put(KEY, text("a"), { mode: "create_only" }));
        expect(await store.put(KEY, text("b"), { mode: "create_only" })).toEqual({
          outcome: "version_conflict",
          currentVersion: version,
        });
        const got = await store.get(KEY);
        expect(got.outcome === "ok" && decode(got.data)).toBe("a");
      });

      it("if_version_matches: writes on the current version only", async () => {
        const v1 = versionOf(await store.put(KEY, text("a"), { mode: "create_only" }));
        const v2 = versionOf(
          await store.put(KEY, text("b"), { mode: "if_version_matches", version: v1 }),
        );
        expect(v2).not.toBe(v1);
        expect(
          await store.put(KEY, text("c"), { mode: "if_version_matches", version: v1 }),
        ).toEqual({ outcome: "version_conflict", currentVersion: v2 });
        expect(
          await store.put(KEY, text("c"), { mode: "if_version_matches", version: "made-up" }),
        ).toEqual({ outcome: "version_conflict", currentVersion: v2 });
        const got = await store.get(KEY);
        expect(got).toMatchObject({ outcome: "ok", version: v2 });
        expect(got.outcome === "ok" && decode(got.data)).toBe("b");
      });

      it("if_version_matches: answers not_found when the object does not exist", async () => {
        expect(
          await store.put(KEY, text("a"), { mode: "if_version_matches", version: "1-abc" }),
        ).toEqual({ outcome: "not_found" });
        expect(await store.get(KEY)).toEqual({ outcome: "not_found" });
      });

      it("overwrite: writes whether or not an object exists", async () => {
        const v1 = versionOf(await store.put(KEY, text("a"), { mode: "overwrite" }));
        const v2 = versionOf(await store.put(KEY, text("b"), { mode: "overwrite" }));
        expect(v2).not.toBe(v1);
        const got = await store.get(KEY);
        expect(got).toMatchObject({ outcome: "ok", version: v2 });
        expect(got.outcome === "ok" && decode(got.data)).toBe("b");
      });

      it("gives every write a new version, even of the same bytes", async () => {
        const versions = new Set<string>();
        for (let index = 0; index < 5; index++) {
          versions.add(versionOf(await store.put(KEY, text("same"), { mode: "overwrite" })));
        }
        expect(versions.size).toBe(5);
      });

      it("keeps keys apart, including a key and keys below it", async () => {
        await store.put("a/b", text("ab"), { mode: "create_only" });
        await store.put("a/b/c", text("abc"), { mode: "create_only" });
        await store.put("a/bc", text("a-bc"), { mode: "create_only" });
        for (const [key, value] of [
          ["a/b", "ab"],
          ["a/b/c", "abc"],
          ["a/bc", "a-bc"],
        ] as const) {
          const got = await store.get(key);
          expect(got.outcome === "ok" && decode(got.data)).toBe(value);
        }
        expect(await store.get("a")).toEqual({ outcome: "not_found" });
      });
    });

    describe("delete", () => {
      it("without a version: deletes, then answers not_found", async () => {
        await store.put(KEY, text("a"), { mode: "create_only" });
        expect(await store.delete(KEY)).toEqual({ outcome: "ok" });
        expect(await store.get(KEY)).toEqual({ outcome: "not_found" });
        expect(await store.delete(KEY)).toEqual({ outcome: "not_found" });
        expect(await store.delete("vaults/never/snapshot")).toEqual({ outcome: "not_found" });
      });

      it("with a version: deletes only that version", async () => {
        const v1 = versionOf(await store.put(KEY, text("a"), { mode: "create_only" }));
        const v2 = versionOf(
          await store.put(KEY, text("b"), { mode: "if_version_matches", version: v1 }),
        );
        expect(await store.delete(KEY, v1)).toEqual({ outcome: "version_conflict" });
        expect(await store.get(KEY)).toMatchObject({ outcome: "ok", version: v2 });
        expect(await store.delete(KEY, v2)).toEqual({ outcome: "ok" });
        expect(await store.delete(KEY, v2)).toEqual({ outcome: "not_found" });
      });

      it("lets a key be created again, under a version never issued before", async () => {
        const before = versionOf(await store.put(KEY, text("same"), { mode: "create_only" }));
        await store.delete(KEY);
        expect(
          await store.put(KEY, text("x"), { mode: "if_version_matches", version: before }),
        ).toEqual({ outcome: "not_found" });
        const after = versionOf(await store.put(KEY, text("same"), { mode: "create_only" }));
        expect(after).not.toBe(before);
        expect(await store.delete(KEY, before)).toEqual({ outcome: "version_conflict" });
      });
    });

    describe("list", () => {
      it("lists current objects under a prefix in key order, without deleted ones", async () => {
        for (const key of ["b/z", "a/b/c", "a/b", "a/b-c", "a/b0", "a/a", "c"]) {
          await store.put(key, text(key), { mode: "create_only" });
        }
        await store.delete("a/a");
        const keys = async (prefix: string) => {
          const found: string[] = [];
          for await (const entry of store.list(prefix)) found.push(entry.key);
          return found;
        };
        expect(await keys("")).toEqual(["a/b", "a/b-c", "a/b/c", "a/b0", "b/z", "c"]);
        expect(await keys("a/")).toEqual(["a/b", "a/b-c", "a/b/c", "a/b0"]);
        expect(await keys("a/b")).toEqual(["a/b", "a/b-c", "a/b/c", "a/b0"]);
        expect(await keys("a/b/")).toEqual(["a/b/c"]);
        expect(await keys("b")).toEqual(["b/z"]);
        expect(await keys("nothing/")).toEqual([]);
      });

      it("gives each object's current version and size", async () => {
        await store.put("k/one", text("1"), { mode: "create_only" });
        const version = versionOf(await store.put("k/one", text("12345"), { mode: "overwrite" }));
        const entries = [];
        for await (const entry of store.list("k/")) entries.push(entry);
        expect(entries).toMatchObject([{ key: "k/one", version, size: 5 }]);
      });
    });

    describe("concurrent writers", () => {
      it("100 racing if_version_matches puts on one version: exactly one wins", async () => {
        const base = versionOf(await store.put(KEY, text("base"), { mode: "create_only" }));
        const results = await Promise.all(
          Array.from({ length: 100 }, (_, index) =>
            store.put(KEY, text(`writer ${index}`), { mode: "if_version_matches", version: base }),
          ),
        );
        const winners = results.flatMap((result, index) =>
          result.outcome === "ok" ? [{ index, version: result.version }] : [],
        );
        expect(winners).toHaveLength(1);
        const winner = winners[0];
        if (winner === undefined) return;
        for (const result of results) {
          if (result.outcome !== "ok") {
            expect(result).toEqual({ outcome: "version_conflict", currentVersion: winner.version });
          }
        }
        const got = await store.get(KEY);
        expect(got).toMatchObject({ outcome: "ok", version: winner.version });
        expect(got.outcome === "ok" && decode(got.data)).toBe(`writer ${winner.index}`);
      });

      it("100 racing create_only puts: exactly one wins", async () => {
        const results = await Promise.all(
          Array.from({ length: 100 }, (_, index) =>
            store.put(KEY, text(`writer ${index}`), { mode: "create_only" }),
          ),
        );
        expect(results.filter((result) => result.outcome === "ok")).toHaveLength(1);
        expect(results.filter((result) => result.outcome === "version_conflict")).toHaveLength(99);
      });

      it("a conditional delete racing conditional puts on one version: exactly one wins", async () => {
        const base = versionOf(await store.put(KEY, text("base"), { mode: "create_only" }));
        const [deleted, ...puts] = await Promise.all([
          store.delete(KEY, base),
          ...Array.from({ length: 20 }, (_, index) =>
            store.put(KEY, text(`writer ${index}`), { mode: "if_version_matches", version: base }),
          ),
        ]);
        const wins =
          (deleted?.outcome === "ok" ? 1 : 0) +
          puts.filter((result) => result.outcome === "ok").length;
        expect(wins).toBe(1);
      });

      it("racing overwrites all land, each under its own version, and the last stays", async () => {
        const results = await Promise.all(
          Array.from({ length: 30 }, (_, index) =>
            store.put(KEY, text(`writer ${index}`), { mode: "overwrite" }),
          ),
        );
        const versions = results.map(versionOf);
        expect(new Set(versions).size).toBe(30);
        const got = await store.get(KEY);
        expect(got.outcome === "ok" && versions.includes(got.version)).toBe(true);
      });

      it("read-modify-write loops lose no update", async () => {
        await store.put(KEY, text("0"), { mode: "create_only" });
        const increment = async () => {
          for (;;) {
            const got = await store.get(KEY);
            if (got.outcome !== "ok") throw new Error("counter vanished");
            const next = text(String(Number(decode(got.data)) + 1));
            const put = await store.put(KEY, next, {
              mode: "if_version_matches",
              version: got.version,
            });
            if (put.outcome === "ok") return;
          }
        };
        await Promise.all(Array.from({ length: 25 }, increment));
        const got = await store.get(KEY);
        expect(got.outcome === "ok" && decode(got.data)).toBe("25");
      });
    });

    describe("arguments", () => {
      it.each(BAD_KEYS)("refuses key %j, saying what is wrong (%s)", async (key, problem) => {
        const bad = key as string;
        const refusal = { name: "BlobStoreError", code: "invalid_argument" };
        const message = expect.stringContaining(problem);
        await expect(store.get(bad)).rejects.toMatchObject({ ...refusal, message });
        await expect(store.put(bad, text("x"), { mode: "overwrite" })).rejects.toMatchObject({
          ...refusal,
          message,
        });
        await expect(store.delete(bad)).rejects.toMatchObject({ ...refusal, message });
      });

      it("names the key in the message", async () => {
        await expect(store.get("vaults/../x")).rejects.toThrow(
          'blob key "vaults/../x" must not contain a \'..\' segment (path traversal): segment 2 ("..")',
        );
      });

      it("refuses bad list prefixes", async () => {
        const drain = async (prefix: string) => {
          for await (const _ of store.list(prefix)) {
            // nothing
          }
        };
        await expect(drain("../")).rejects.toMatchObject({
          code: "invalid_argument",
          message: expect.stringContaining('blob prefix "../"'),
        });
        await expect(drain("/abs")).rejects.toMatchObject({ code: "invalid_argument" });
      });

      it("refuses malformed conditions, versions and data, naming them", async () => {
        const cases: Array<[() => Promise<unknown>, string]> = [
          [
            () => store.put(KEY, text("x"), { mode: "sometimes" } as never),
            'put condition mode "sometimes" is not one of create_only, if_version_matches, overwrite',
          ],
          [
            () => store.put(KEY, text("x"), undefined as never),
            "put condition must be an object with a mode, not undefined",
          ],
          [
            () => store.put(KEY, text("x"), { mode: "if_version_matches" } as never),
            "put condition version must be a string, not undefined",
          ],
          [
            () => store.put(KEY, text("x"), { mode: "if_version_matches", version: "" }),
            'put condition version "" must not be empty',
          ],
          [
            () => store.put(KEY, text("x"), { mode: "overwrite", version: "1" } as never),
            "put condition version must be absent with mode overwrite",
          ],
          [
            () => store.put(KEY, "text" as never, { mode: "overwrite" }),
            "must be a Uint8Array, not a string",
          ],
          [() => store.get(KEY, ""), 'version "" must not be empty'],
          [() => store.get(KEY, "a b"), "must be printable ASCII without spaces"],
          [() => store.delete(KEY, "x".repeat(300)), "over the limit of 256"],
        ];
        for (const [call, message] of cases) {
          await expect(call()).rejects.toMatchObject({
            code: "invalid_argument",
            message: expect.stringContaining(message),
          });
        }
      });
    });
  });
}
