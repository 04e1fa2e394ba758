import type { Dirent } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { sha384 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { NsmError } from "./nsm-error.js";

/**
 * Directory names left out of a code bundle: dependencies, test vectors and test-only helpers are
 * not the enclave's code.
 */
export const EXCLUDED_DIRECTORY_NAMES: readonly string[] = ["node_modules", "testdata", "testing"];

/** File-name ending left out of a code bundle: unit tests sit beside the code but do not ship. */
export const EXCLUDED_FILE_SUFFIX = ".test.ts";

/** One file of a code bundle. */
export interface CodeBundleEntry {
  /** Path relative to the bundle's directory, with `/` separators. */
  readonly path: string;
  /** SHA-384 of the file's bytes. */
  readonly sha384: Uint8Array;
}

const encoder = new TextEncoder();

/**
 * Lists the regular files under `dir` that make up the enclave's code, sorted by the bytes of
 * their UTF-8 path (as `LC_ALL=C sort` orders them). Left out: names starting with `.`, files
 * ending in {@link EXCLUDED_FILE_SUFFIX}, directories named in {@link EXCLUDED_DIRECTORY_NAMES},
 * and anything that is neither a regular file nor a directory (symbolic links are not followed).
 *
 * @throws NsmError `state_invalid` when `dir` cannot be read, or a path holds a newline or a
 *   backslash (which `sha384sum` would escape, breaking the documented listing).
 */
export async function listCodeBundle(dir: string): Promise<CodeBundleEntry[]> {
  const entries: CodeBundleEntry[] = [];
  async function walk(absolute: string, relative: string): Promise<void> {
    let children: Dirent[];
    try {
      children = await readdir(absolute, { withFileTypes: true });
    } catch (cause) {
      throw new NsmError("state_invalid", `cannot read the enclave code directory ${absolute}`, {
        cause,
      });
    }
    for (const child of children) {
      const name = child.name;
      if (name.startsWith(".")) continue;
      const path = relative === "" ? name : `${relative}/${name}`;
      if (/[\n\\]/.test(path)) {
        throw new NsmError(
          "state_invalid",
          `enclave code path ${JSON.stringify(path)} holds a newline or a backslash; rename it`,
        );
      }
      if (child.isDirectory()) {
        if (!EXCLUDED_DIRECTORY_NAMES.includes(name)) await walk(join(absolute, name), path);
      } else if (child.isFile() && !name.endsWith(EXCLUDED_FILE_SUFFIX)) {
        entries.push({ path, sha384: sha384(await readFile(join(absolute, name))) });
      }
    }
  }
  await walk(dir, "");
  return entries.sort((a, b) => Buffer.compare(encoder.encode(a.path), encoder.encode(b.path)));
}

/**
 * The text that is hashed into the code measurement: one line per file, exactly as GNU
 * `sha384sum` prints it (`<hex digest>  <path>\n`), in {@link listCodeBundle}'s order.
 */
export function codeBundleListing(entries: readonly CodeBundleEntry[]): string {
  return entries.map((entry) => `${bytesToHex(entry.sha384)}  ${entry.path}\n`).join("");
}

/**
 * The SHA-384 measurement of the code under `dir`: SHA-384 of {@link codeBundleListing}. Anyone
 * can recompute it with coreutils:
 *
 * ```sh
 * cd enclave && find . \( -name '.*' ! -name . -o -name node_modules -o -name testdata -o -name testing \) -prune \
 *   -o -type f ! -name '*.test.ts' -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha384sum | sha384sum
 * ```
 */
export async function measureCodeBundle(dir: string): Promise<Uint8Array> {
  return sha384(encoder.encode(codeBundleListing(await listCodeBundle(dir))));
}
