import { type FileHandle, mkdir, open, readdir, rename, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { MAX_FRAME_BYTES } from "../vsock/limits.js";
import {
  assertBlobData,
  assertBlobKey,
  assertBlobPrefix,
  assertPutCondition,
  assertVersion,
  blobKeyProblem,
} from "./blob-arguments.js";
import type {
  BlobListEntry,
  BlobStore,
  DeleteResult,
  GetResult,
  PutCondition,
  PutResult,
} from "./blob-store.js";
import { BlobStoreError } from "./blob-store-error.js";
import {
  corrupt,
  DATA_FILE,
  decodeSlotHeader,
  formatVersion,
  generationName,
  OBJECT_DIRECTORY_SUFFIX,
  objectDirectory,
  objectHeader,
  parseGenerationName,
  parseVersion,
  parseWorkName,
  SLOT_HEADER_BYTES,
  sha256,
  tombstoneHeader,
  workName,
} from "./filesystem-layout.js";
import { KeyedMutex } from "./keyed-mutex.js";

/**
 * Largest object a put accepts by default: the vsock frame limit, since an object never reaches
 * the parent (or goes back to the enclave) in anything but one frame.
 */
export const DEFAULT_MAX_OBJECT_BYTES = MAX_FRAME_BYTES;

/**
 * Generations of each key kept on disk by default, the current one included: enough for the
 * enclave to read back, by version, the few objects it replaced most recently (to tell a rollback
 * from a lost race), while a busy vault's directory stays a few snapshots large.
 */
export const DEFAULT_RETAINED_GENERATIONS = 4;

/**
 * How often a write starts over when the state it read changed under it (another process wrote
 * the next generation first, or pruned the one it read). A conditional write then answers from
 * the new state at once; an overwrite tries again, and since each retry means another writer made
 * progress, this is only reached under pathological contention: the write fails `unavailable`.
 */
const MAX_WRITE_ATTEMPTS = 100;

/**
 * How often a read retries when the generation it found was pruned before it could open it (that
 * takes {@link DEFAULT_RETAINED_GENERATIONS} writes in between), before failing `unavailable`.
 */
const MAX_READ_ATTEMPTS = 16;

/** Errors of a `rename` onto a generation that already exists (a directory never left empty). */
const TARGET_TAKEN = new Set(["ENOTEMPTY", "EEXIST"]);

/** Options of {@link createFilesystemBlobStore}. */
export interface FilesystemBlobStoreOptions {
  /**
   * The directory holding the objects. Created (mode 0700) on the first write. Every process
   * using it must run on this host in one PID namespace (work left by a killed writer is
   * recognised by its process id).
   */
  readonly directory: string;
  /** Largest object `put` accepts. Default {@link DEFAULT_MAX_OBJECT_BYTES}. */
  readonly maxObjectBytes?: number;
  /**
   * Generations of each key to keep, the current one included; at least 1. Older ones are removed
   * after each write. Default {@link DEFAULT_RETAINED_GENERATIONS}.
   */
  readonly retainedGenerations?: number;
}

interface ResolvedOptions {
  readonly directory: string;
  readonly maxObjectBytes: number;
  readonly retainedGenerations: number;
}

/**
 * The state of a key on disk: no object directory yet, or its highest generation, which holds
 * no object (generation 0, or a tombstone) or the current object.
 */
type Current =
  | { readonly kind: "missing" }
  | { readonly kind: "absent"; readonly generation: number }
  | {
      readonly kind: "object";
      readonly generation: number;
      readonly version: string;
      readonly size: number;
      readonly modifiedAtMs: number;
    };

/** A `data` file read whole. */
interface Slot {
  readonly bytes: Buffer;
  readonly modifiedAtMs: number;
}

/**
 * One lock table for the whole process, keyed by object directory: stores opened on the same
 * directory in one process queue their writes to a key behind each other too.
 */
const objectLocks = new KeyedMutex();

/**
 * Object directories whose parent folders this process has already synced up to the store's
 * root's parent: after that their entries are durable, and folders are never removed.
 */
const syncedAncestors = new Set<string>();

/**
 * A {@link BlobStore} in a local directory: the local stand-in for S3, with the same guarantees.
 * The layout is described in `filesystem-layout.ts`.
 *
 * **Versions.** Each write of a key makes its next generation, and its version is
 * `<generation>-<SHA-256 of the bytes, hex>`: new on every write even when the bytes repeat,
 * tied to the content, and checked against it on every read (a mismatch is `corrupt`).
 *
 * **Atomic conditional writes, across threads and processes, without lock files.** A writer that
 * read generation `n` as current prepares generation `n + 1` in a staging directory *inside
 * `n`'s directory*, then renames it to `n + 1`. The rename is the compare-and-swap: it fails if
 * `n + 1` exists (a generation directory is never empty, and rename(2) will not replace a
 * non-empty one), so of all writers that read `n`, exactly one succeeds, in whichever process;
 * and it fails if `n` has been pruned meanwhile (its directory, with the staging directory in it,
 * is renamed away before it is removed, oldest first), so a writer that stalled for several
 * generations can never fill a pruned slot below the current one. Losers read again and answer
 * `version_conflict`, or for an overwrite try again on the new generation. Nothing is ever left
 * locked by a killed process, so there is nothing to recover. Within a process, writes to one key
 * also queue behind an in-memory lock, so concurrent losers are answered from the new state
 * without staging a copy first.
 *
 * **Crash safety and durability.** The staged `data` file is fsynced, then its directory, then it
 * is renamed into place (atomic: the generation appears whole or not at all), then the object
 * directory is fsynced (and, the first time this process writes a key, every folder up to the
 * root's parent); only then does the put resolve. A process killed at any point leaves the old or
 * the new object, never part of one; its staging directory is removed by a later write once its
 * process is gone. Generations are never modified in place, so reads take no lock.
 *
 * **Deletes** write a tombstone generation, so generations never restart and a deleted key's old
 * versions can never match again. A deleted key's directory stays, with its tombstone.
 *
 * @throws BlobStoreError `invalid_argument` for a bad `directory`, `maxObjectBytes` or
 *   `retainedGenerations`.
 */
export function createFilesystemBlobStore(options: FilesystemBlobStoreOptions): BlobStore {
  const resolved = resolveOptions(options);
  return {
    get: (key, version) => get(resolved, key, version),
    put: (key, data, condition) => put(resolved, key, data, condition),
    delete: (key, expectedVersion) => remove(resolved, key, expectedVersion),
    list: (prefix) => list(resolved, prefix),
  };
}

function resolveOptions(options: FilesystemBlobStoreOptions): ResolvedOptions {
  if (typeof options?.directory !== "string" || options.directory.length === 0) {
    throw new BlobStoreError("invalid_argument", "directory must be a non-empty path");
  }
  const maxObjectBytes = options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
  if (!Number.isSafeInteger(maxObjectBytes) || maxObjectBytes < 0) {
    throw new BlobStoreError(
      "invalid_argument",
      `maxObjectBytes must be a non-negative integer, not ${maxObjectBytes}`,
    );
  }
  const retainedGenerations = options.retainedGenerations ?? DEFAULT_RETAINED_GENERATIONS;
  if (!Number.isSafeInteger(retainedGenerations) || retainedGenerations < 1) {
    throw new BlobStoreError(
      "invalid_argument",
      `retainedGenerations must be an integer of at least 1, not ${retainedGenerations}`,
    );
  }
  return { directory: resolve(options.directory), maxObjectBytes, retainedGenerations };
}

async function get(
  options: ResolvedOptions,
  key: string,
  version: string | undefined,
): Promise<GetResult> {
  assertBlobKey(key);
  if (version !== undefined) assertVersion(version, "version");
  const directory = objectDirectory(options.directory, key);
  try {
    if (version !== undefined) return await getVersion(directory, version);
    for (let attempt = 0; attempt < MAX_READ_ATTEMPTS; attempt++) {
      const names = await readdirIfPresent(directory);
      if (names === undefined) return { outcome: "not_found" };
      const top = highestGeneration(names);
      if (top === undefined) throw corrupt(directory, "holds no generation directory");
      if (top === 0) return { outcome: "not_found" };
      const path = join(directory, generationName(top), DATA_FILE);
      const slot = await readSlot(path);
      if (slot === undefined) continue; // pruned since the listing: list again
      return openSlot(top, path, slot);
    }
    throw new BlobStoreError(
      "unavailable",
      `blob key ${JSON.stringify(key)}: the current generation kept being replaced while it was read`,
    );
  } catch (cause) {
    throw asStoreError(cause, `cannot read blob key ${JSON.stringify(key)}`);
  }
}

async function getVersion(directory: string, version: string): Promise<GetResult> {
  const wanted = parseVersion(version);
  if (wanted === undefined) return { outcome: "not_found" };
  const path = join(directory, generationName(wanted.generation), DATA_FILE);
  const slot = await readSlot(path);
  if (slot === undefined) return { outcome: "not_found" };
  const header = decodeSlotHeader(slot.bytes, path);
  if (header.kind !== "object" || !header.sha256.equals(wanted.sha256)) {
    return { outcome: "not_found" };
  }
  return openSlot(wanted.generation, path, slot);
}

/** The object in a `data` file, its bytes checked against its digest. */
function openSlot(generation: number, path: string, slot: Slot): GetResult {
  const header = decodeSlotHeader(slot.bytes, path);
  if (header.kind === "tombstone") return { outcome: "not_found" };
  const data = slot.bytes.subarray(SLOT_HEADER_BYTES);
  if (!sha256(data).equals(header.sha256)) {
    throw corrupt(path, "does not match the SHA-256 in its header");
  }
  return {
    outcome: "ok",
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    version: formatVersion(generation, header.sha256),
    modifiedAtMs: slot.modifiedAtMs,
  };
}

async function put(
  options: ResolvedOptions,
  key: string,
  data: Uint8Array,
  condition: PutCondition,
): Promise<PutResult> {
  assertBlobKey(key);
  assertPutCondition(condition);
  assertBlobData(data, options.maxObjectBytes, key);
  const digest = sha256(data);
  return commit<PutResult>(options, key, objectHeader(digest), data, {
    decide(current) {
      if (condition.mode === "create_only" && current.kind === "object") {
        return { outcome: "version_conflict", currentVersion: current.version };
      }
      if (condition.mode === "if_version_matches") {
        if (current.kind !== "object") return { outcome: "not_found" };
        if (current.version !== condition.version) {
          return { outcome: "version_conflict", currentVersion: current.version };
        }
      }
      return undefined;
    },
    done: (generation) => ({ outcome: "ok", version: formatVersion(generation, digest) }),
  });
}

async function remove(
  options: ResolvedOptions,
  key: string,
  expectedVersion: string | undefined,
): Promise<DeleteResult> {
  assertBlobKey(key);
  if (expectedVersion !== undefined) assertVersion(expectedVersion, "expected version");
  return commit<DeleteResult>(options, key, tombstoneHeader(), undefined, {
    decide(current) {
      if (current.kind !== "object") return { outcome: "not_found" };
      if (expectedVersion !== undefined && current.version !== expectedVersion) {
        return { outcome: "version_conflict" };
      }
      return undefined;
    },
    done: () => ({ outcome: "ok" }),
  });
}

/** What a write does with the key's current state. */
interface WritePlan<R> {
  /** The answer without writing (a failed condition), or `undefined` to write. */
  decide(current: Current): R | undefined;
  /** The answer once generation `generation` is in place and durable. */
  done(generation: number): R;
}

/**
 * Writes `header` + `data` as the key's next generation if `plan.decide` lets it: see
 * {@link createFilesystemBlobStore} for why this is atomic and durable.
 */
function commit<R>(
  options: ResolvedOptions,
  key: string,
  header: Buffer,
  data: Uint8Array | undefined,
  plan: WritePlan<R>,
): Promise<R> {
  const directory = objectDirectory(options.directory, key);
  return objectLocks.run(directory, async () => {
    let staging: string | undefined;
    try {
      for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
        const current = await readCurrent(directory);
        const answer = plan.decide(current);
        if (answer !== undefined) return answer;
        if (current.kind === "missing") {
          await createObjectDirectory(options.directory, directory);
          continue; // decide again on what is there now
        }
        const predecessor = join(directory, generationName(current.generation));
        staging = await stage(predecessor, header, data);
        if (staging === undefined) continue; // the predecessor was pruned: read again
        const generation = current.generation + 1;
        try {
          await rename(staging, join(directory, generationName(generation)));
        } catch (cause) {
          const code = errnoOf(cause);
          if (code !== "ENOENT" && !TARGET_TAKEN.has(code ?? "")) throw cause;
          // Another writer made this generation first, or the predecessor was pruned (taking
          // the staging directory with it): read again.
          await rm(staging, { recursive: true, force: true });
          staging = undefined;
          continue;
        }
        staging = undefined;
        await syncDurably(options.directory, directory);
        await tidy(directory, generation, options.retainedGenerations);
        return plan.done(generation);
      }
      throw new BlobStoreError(
        "unavailable",
        `blob key ${JSON.stringify(key)}: other writers got in first ${MAX_WRITE_ATTEMPTS} times in a row`,
      );
    } catch (cause) {
      throw asStoreError(cause, `cannot write blob key ${JSON.stringify(key)}`);
    } finally {
      if (staging !== undefined) await rm(staging, { recursive: true, force: true });
    }
  });
}

/**
 * Prepares the next generation inside `predecessor`'s directory: a staging directory holding the
 * `data` file, both fsynced. Returns its path, or `undefined` when `predecessor` no longer exists.
 */
async function stage(
  predecessor: string,
  header: Buffer,
  data: Uint8Array | undefined,
): Promise<string | undefined> {
  const staging = join(predecessor, workName("stage"));
  try {
    await mkdir(staging, { mode: 0o700 });
  } catch (cause) {
    if (errnoOf(cause) === "ENOENT") return undefined;
    throw cause;
  }
  try {
    const file = await open(join(staging, DATA_FILE), "wx", 0o600);
    try {
      await file.writeFile(header);
      if (data !== undefined && data.byteLength > 0) await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await syncDirectory(staging);
    return staging;
  } catch (cause) {
    await rm(staging, { recursive: true, force: true });
    if (errnoOf(cause) === "ENOENT") return undefined; // pruned while we wrote
    throw cause;
  }
}

/**
 * Creates a key's object directory, whole: a prepared directory holding an empty generation 0
 * is renamed into place, so it can never be seen without a generation (and a writer that read
 * "no object directory" long ago cannot recreate generation 0 once it has been pruned). Does
 * nothing when another writer created it first.
 */
async function createObjectDirectory(root: string, directory: string): Promise<void> {
  const parent = dirname(directory);
  const created = await mkdir(parent, { recursive: true, mode: 0o700 });
  if (created !== undefined && !created.startsWith(`${root}/`) && created !== root) {
    // Folders above the root were made too: make their entries durable (up to the first one's
    // parent); syncDurably covers the rest once the first generation is written.
    await syncChain(dirname(dirname(root)), dirname(created));
  }
  await sweep(parent, ["new"]);
  const prepared = join(parent, workName("new"));
  await mkdir(join(prepared, generationName(0)), { recursive: true, mode: 0o700 });
  try {
    await syncDirectory(prepared);
    await rename(prepared, directory);
  } catch (cause) {
    await rm(prepared, { recursive: true, force: true });
    if (!TARGET_TAKEN.has(errnoOf(cause) ?? "")) throw cause;
  }
}

/** The key's current state, from its highest generation. */
async function readCurrent(directory: string): Promise<Current> {
  for (let attempt = 0; attempt < MAX_READ_ATTEMPTS; attempt++) {
    const names = await readdirIfPresent(directory);
    if (names === undefined) return { kind: "missing" };
    const generation = highestGeneration(names);
    if (generation === undefined) throw corrupt(directory, "holds no generation directory");
    if (generation === 0) return { kind: "absent", generation };
    const path = join(directory, generationName(generation), DATA_FILE);
    let file: FileHandle;
    try {
      file = await open(path, "r");
    } catch (cause) {
      if (errnoOf(cause) === "ENOENT") continue; // pruned since the listing: list again
      throw cause;
    }
    try {
      const buffer = Buffer.alloc(SLOT_HEADER_BYTES);
      const { bytesRead } = await file.read(buffer, 0, SLOT_HEADER_BYTES, 0);
      const header = decodeSlotHeader(buffer.subarray(0, bytesRead), path);
      if (header.kind === "tombstone") return { kind: "absent", generation };
      const stats = await file.stat();
      return {
        kind: "object",
        generation,
        version: formatVersion(generation, header.sha256),
        size: stats.size - SLOT_HEADER_BYTES,
        modifiedAtMs: Math.trunc(stats.mtimeMs),
      };
    } finally {
      await file.close();
    }
  }
  throw new BlobStoreError(
    "unavailable",
    `${directory}: the current generation kept being replaced while it was read`,
  );
}

/** A `data` file read whole, or `undefined` when it does not exist. */
async function readSlot(path: string): Promise<Slot | undefined> {
  let file: FileHandle;
  try {
    file = await open(path, "r");
  } catch (cause) {
    const code = errnoOf(cause);
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw cause;
  }
  try {
    const stats = await file.stat();
    return { bytes: await file.readFile(), modifiedAtMs: Math.trunc(stats.mtimeMs) };
  } finally {
    await file.close();
  }
}

/**
 * Makes a new generation durable: fsyncs the object directory, and the first time this process
 * writes the key, every folder from there up to the root's parent (their entries may be as new
 * as the key, made by another process that has not synced them yet).
 */
async function syncDurably(root: string, directory: string): Promise<void> {
  if (syncedAncestors.has(directory)) {
    await syncDirectory(directory);
    return;
  }
  await syncChain(directory, dirname(root));
  syncedAncestors.add(directory);
}

/** fsyncs `from` and each parent folder up to and including `to`. */
async function syncChain(from: string, to: string): Promise<void> {
  for (let directory = from; ; directory = dirname(directory)) {
    await syncDirectory(directory);
    if (directory === to || dirname(directory) === directory) return;
  }
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Best effort, after a write: prunes generations older than the retained ones, oldest first,
 * each renamed away before it is removed (see {@link createFilesystemBlobStore} for why), and
 * removes the work of writers that were killed. A failure here never fails the write.
 */
async function tidy(directory: string, generation: number, retained: number): Promise<void> {
  try {
    const old = ((await readdirIfPresent(directory)) ?? [])
      .map(parseGenerationName)
      .filter((found): found is number => found !== undefined && found <= generation - retained)
      .sort((a, b) => a - b);
    for (const prune of old) {
      const trash = join(directory, workName("trash"));
      try {
        await rename(join(directory, generationName(prune)), trash);
      } catch (cause) {
        if (errnoOf(cause) === "ENOENT") continue; // another writer pruned it
        return; // never prune a newer generation while an older one may remain
      }
      await rm(trash, { recursive: true, force: true });
    }
    // Killed writers staged into whichever generation was current then: the one this write
    // replaced, or (for a writer killed after losing a race to this one) this one.
    await sweep(directory, ["trash"]);
    await sweep(join(directory, generationName(generation - 1)), ["stage"]);
    await sweep(join(directory, generationName(generation)), ["stage"]);
  } catch {
    // Leftovers only cost space; the next write tries again.
  }
}

/** Removes the working directories of `kinds` in `directory` whose writing process is gone. */
async function sweep(directory: string, kinds: readonly string[]): Promise<void> {
  for (const name of (await readdirIfPresent(directory)) ?? []) {
    const work = parseWorkName(name);
    if (work === undefined || !kinds.includes(work.kind)) continue;
    if (work.pid === process.pid || isProcessAlive(work.pid)) continue;
    await rm(join(directory, name), { recursive: true, force: true }).catch(() => undefined);
  }
}

async function* list(options: ResolvedOptions, prefix: string): AsyncGenerator<BlobListEntry> {
  assertBlobPrefix(prefix);
  const slash = prefix.lastIndexOf("/");
  yield* listFolder(options.directory, slash < 0 ? "" : prefix.slice(0, slash + 1), prefix);
}

/** The objects in folder `relative` ("" or ending in `/`) and below whose keys start with `prefix`. */
async function* listFolder(
  root: string,
  relative: string,
  prefix: string,
): AsyncGenerator<BlobListEntry> {
  let entries: { name: string; isDirectory(): boolean }[];
  try {
    entries = await readdir(join(root, relative), { withFileTypes: true });
  } catch (cause) {
    const code = errnoOf(cause);
    if (code === "ENOENT" || code === "ENOTDIR") return;
    throw asStoreError(cause, `cannot list blob prefix ${JSON.stringify(prefix)}`);
  }
  // Sort by what each entry contributes to keys, so that keys come out in ascending order
  // (`a` < `a-b` < `a/…` < `a0`), as S3 lists them.
  const children = entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith("."))
    .map((entry) =>
      entry.name.endsWith(OBJECT_DIRECTORY_SUFFIX)
        ? {
            object: true,
            path: `${relative}${entry.name.slice(0, -OBJECT_DIRECTORY_SUFFIX.length)}`,
          }
        : { object: false, path: `${relative}${entry.name}/` },
    )
    .filter(
      (child) => blobKeyProblem(child.object ? child.path : child.path.slice(0, -1)) === undefined,
    )
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const child of children) {
    if (child.object) {
      if (!child.path.startsWith(prefix)) continue;
      let current: Current;
      try {
        current = await readCurrent(objectDirectory(root, child.path));
      } catch (cause) {
        throw asStoreError(cause, `cannot list blob key ${JSON.stringify(child.path)}`);
      }
      if (current.kind === "object") {
        yield {
          key: child.path,
          version: current.version,
          size: current.size,
          modifiedAtMs: current.modifiedAtMs,
        };
      }
    } else if (child.path.startsWith(prefix) || prefix.startsWith(child.path)) {
      yield* listFolder(root, child.path, prefix);
    }
  }
}

/** Highest generation among `names`, or `undefined` when there is none. */
function highestGeneration(names: readonly string[] | undefined): number | undefined {
  let highest: number | undefined;
  for (const name of names ?? []) {
    const generation = parseGenerationName(name);
    if (generation !== undefined && (highest === undefined || generation > highest)) {
      highest = generation;
    }
  }
  return highest;
}

async function readdirIfPresent(directory: string): Promise<string[] | undefined> {
  try {
    return await readdir(directory);
  } catch (cause) {
    const code = errnoOf(cause);
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw cause;
  }
}

/** Whether process `pid` exists (EPERM: it exists but belongs to someone else). */
function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (cause) {
    return errnoOf(cause) !== "ESRCH";
  }
}

function errnoOf(cause: unknown): string | undefined {
  return (cause as NodeJS.ErrnoException | undefined)?.code;
}

/** `cause` unchanged when it is a BlobStoreError, else an `unavailable` one saying what failed. */
function asStoreError(cause: unknown, doing: string): BlobStoreError {
  if (cause instanceof BlobStoreError) return cause;
  return new BlobStoreError("unavailable", `${doing}: ${errnoOf(cause) ?? String(cause)}`, {
    cause,
  });
}
