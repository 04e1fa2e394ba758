import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { BlobStoreError } from "./blob-store-error.js";

/*
 * How the filesystem blob store lays objects out on disk:
 *
 *   <root>/vaults/<owner_guid>/snapshot~v/     object directory of key vaults/<owner_guid>/snapshot
 *     0000000000000007/                        generation 7 (an older one, kept for reads by version)
 *       data                                   header + the object's bytes; never changed once in place
 *     0000000000000008/                        generation 8: the current object (highest number)
 *       data
 *       .stage-<pid>-<random>/data             a write preparing generation 9 (or left by a killed one)
 *     .trash-<pid>-<random>/                   a pruned generation being removed
 *
 * `~` is not allowed in keys, so `a/b~v/` (key `a/b`) never clashes with the folder `a/b/` of key
 * `a/b/c`. An object directory is created whole, holding an empty generation 0 ("no object yet"),
 * by renaming a prepared `.new-<pid>-<random>/` into place.
 *
 * A `data` file starts with a 37-byte header: the magic `VBS1`, a kind byte (1: object,
 * 2: tombstone left by a delete), the SHA-256 of the bytes that follow (zeros for a tombstone).
 */

/** Appended to a key's last segment to name its object directory; `~` cannot occur in a key. */
export const OBJECT_DIRECTORY_SUFFIX = "~v";

/** The file holding a generation's header and bytes, inside its generation directory. */
export const DATA_FILE = "data";

/** Size of the header at the start of every `data` file. */
export const SLOT_HEADER_BYTES = 37;

/** Digits in a generation directory's name: enough for `Number.MAX_SAFE_INTEGER`, and they sort. */
const GENERATION_DIGITS = 16;

const MAGIC = Buffer.from("VBS1", "latin1");
const KIND_OBJECT = 1;
const KIND_TOMBSTONE = 2;
const SHA256_BYTES = 32;
const GENERATION_NAME = /^\d{16}$/;
const VERSION = /^([1-9]\d{0,15})-([0-9a-f]{64})$/;
const WORK_NAME = /^\.(stage|trash|new)-(\d+)-[0-9a-f]+$/;

/** What a working name (a dot-name with its writer's process id) is for. */
export type WorkKind = "stage" | "trash" | "new";

/** A decoded `data` header. */
export type SlotHeader =
  | { readonly kind: "object"; readonly sha256: Buffer }
  | { readonly kind: "tombstone" };

/** The object directory of `key` under `root`. */
export function objectDirectory(root: string, key: string): string {
  return join(root, `${key}${OBJECT_DIRECTORY_SUFFIX}`);
}

/** The directory name of generation `generation` (0 for "no object yet"). */
export function generationName(generation: number): string {
  return String(generation).padStart(GENERATION_DIGITS, "0");
}

/** The generation a directory name holds, or `undefined` when it is not a generation. */
export function parseGenerationName(name: string): number | undefined {
  return GENERATION_NAME.test(name) ? Number(name) : undefined;
}

/** A fresh working name of `kind`, carrying this process's id (see {@link parseWorkName}). */
export function workName(kind: WorkKind): string {
  return `.${kind}-${process.pid}-${randomBytes(8).toString("hex")}`;
}

/** The kind and writer's process id of a working name, or `undefined` when `name` is not one. */
export function parseWorkName(name: string): { kind: WorkKind; pid: number } | undefined {
  const match = WORK_NAME.exec(name);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  return { kind: match[1] as WorkKind, pid: Number(match[2]) };
}

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array): Buffer {
  return createHash("sha256").update(data).digest();
}

/** The header of an object's `data` file, for bytes whose SHA-256 is `digest`. */
export function objectHeader(digest: Uint8Array): Buffer {
  return Buffer.concat([MAGIC, Buffer.of(KIND_OBJECT), digest]);
}

/** The whole `data` file of a tombstone. */
export function tombstoneHeader(): Buffer {
  return Buffer.concat([MAGIC, Buffer.of(KIND_TOMBSTONE), Buffer.alloc(SHA256_BYTES)]);
}

/**
 * Reads the header at the start of `bytes` (a `data` file or its first {@link SLOT_HEADER_BYTES}).
 *
 * @throws BlobStoreError `corrupt`, naming `path`, when it is not a header this store writes.
 */
export function decodeSlotHeader(bytes: Uint8Array, path: string): SlotHeader {
  const header = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (header.byteLength < SLOT_HEADER_BYTES) {
    throw corrupt(
      path,
      `is ${header.byteLength} bytes, shorter than its ${SLOT_HEADER_BYTES}-byte header`,
    );
  }
  if (!header.subarray(0, MAGIC.byteLength).equals(MAGIC)) {
    throw corrupt(path, "does not start with the magic VBS1");
  }
  const kind = header[MAGIC.byteLength];
  if (kind === KIND_OBJECT) {
    return { kind: "object", sha256: Buffer.from(header.subarray(5, SLOT_HEADER_BYTES)) };
  }
  if (kind === KIND_TOMBSTONE) return { kind: "tombstone" };
  throw corrupt(path, `has kind byte ${kind}, neither 1 (object) nor 2 (tombstone)`);
}

/**
 * The version of an object: its generation and the SHA-256 of its bytes, `<generation>-<hex>`.
 * The generation makes each write's version new even when the bytes repeat; the digest ties the
 * version to the content, so a version from before a directory was wiped and rebuilt cannot match
 * different bytes, and a reader can check what it read.
 */
export function formatVersion(generation: number, digest: Uint8Array): string {
  return `${generation}-${Buffer.from(digest).toString("hex")}`;
}

/** The generation and digest a version names, or `undefined` when this store never issues it. */
export function parseVersion(version: string): { generation: number; sha256: Buffer } | undefined {
  const match = VERSION.exec(version);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  const generation = Number(match[1]);
  if (!Number.isSafeInteger(generation)) return undefined;
  return { generation, sha256: Buffer.from(match[2], "hex") };
}

/** A `corrupt` error about the stored file or directory at `path`. */
export function corrupt(path: string, problem: string): BlobStoreError {
  return new BlobStoreError("corrupt", `stored object file ${path} ${problem}`);
}
