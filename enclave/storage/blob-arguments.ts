import type { PutCondition } from "./blob-store.js";
import { BlobStoreError } from "./blob-store-error.js";

/**
 * Longest key, in characters (keys are ASCII, so also bytes): S3's own limit, so that a key valid
 * for the local store is valid in production.
 */
export const MAX_KEY_LENGTH = 1024;

/**
 * Longest segment between two `/` of a key. Filesystems allow 255-byte names; the filesystem store
 * appends a short suffix to the last segment, and 200 leaves room for it.
 */
export const MAX_KEY_SEGMENT_LENGTH = 200;

/**
 * Longest version string accepted as an expected version. Far above any version a store issues
 * (an S3 ETag is at most about 70 characters, the filesystem store's 81), so a longer string is
 * malformed rather than merely stale.
 */
export const MAX_VERSION_LENGTH = 256;

/** Characters allowed in a key segment: letters, digits, `.`, `_`, `-` (all safe in S3 and on disk). */
const SEGMENT_CHARACTER = /^[A-Za-z0-9._-]$/;

/** How much of a bad key or version a message quotes, so an oversized input cannot flood logs. */
const QUOTE_LIMIT = 80;

/**
 * What is wrong with `key` as an object key, or `undefined` when it is valid. A valid key is a
 * relative path of segments joined by single `/` (for example `vaults/<owner_guid>/snapshot`):
 * at most {@link MAX_KEY_LENGTH} characters, each segment 1 to {@link MAX_KEY_SEGMENT_LENGTH} of
 * `A-Z a-z 0-9 . _ -`, none starting with `.` (which rules out `.` and `..`, so a key never
 * leaves the store's root, and hidden names, which stores use for their own files).
 */
export function blobKeyProblem(key: unknown): string | undefined {
  if (typeof key !== "string") return `must be a string, not ${describeType(key)}`;
  if (key.length === 0) return "must not be empty";
  if (key.length > MAX_KEY_LENGTH) {
    return `is ${key.length} characters long, over the limit of ${MAX_KEY_LENGTH}`;
  }
  if (key.startsWith("/")) return "must be relative: it starts with '/'";
  if (key.endsWith("/")) return "must name an object, not a folder: it ends with '/'";
  const segments = key.split("/");
  for (const [index, segment] of segments.entries()) {
    const where = `segment ${index + 1} (${quote(segment)})`;
    if (segment.length === 0) return "must not contain '//' (an empty segment)";
    if (segment === "..") return `must not contain a '..' segment (path traversal): ${where}`;
    if (segment === ".") return `must not contain a '.' segment: ${where}`;
    if (segment.startsWith(".")) return `must not have a segment starting with '.': ${where}`;
    if (segment.length > MAX_KEY_SEGMENT_LENGTH) {
      return `${where} is ${segment.length} characters long, over the limit of ${MAX_KEY_SEGMENT_LENGTH}`;
    }
    for (const character of segment) {
      if (!SEGMENT_CHARACTER.test(character)) {
        return `${where} contains ${describeCharacter(character)}; allowed are A-Z a-z 0-9 . _ - and '/' between segments`;
      }
    }
  }
  return undefined;
}

/**
 * Checks an object key (see {@link blobKeyProblem} for the rules).
 *
 * @throws BlobStoreError `invalid_argument` naming the key and what is wrong with it.
 */
export function assertBlobKey(key: unknown): asserts key is string {
  const problem = blobKeyProblem(key);
  if (problem !== undefined) {
    throw new BlobStoreError("invalid_argument", `${named("blob key", key)} ${problem}`);
  }
}

/**
 * Checks a list prefix: empty (everything), a valid key (`vaults/ab` also matches `vaults/abc/…`),
 * or a valid key followed by `/` (one folder).
 *
 * @throws BlobStoreError `invalid_argument` naming the prefix and what is wrong with it.
 */
export function assertBlobPrefix(prefix: unknown): asserts prefix is string {
  if (prefix === "") return;
  const asKey = typeof prefix === "string" && prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  const problem = blobKeyProblem(asKey);
  if (problem !== undefined) {
    throw new BlobStoreError("invalid_argument", `${named("blob prefix", prefix)} ${problem}`);
  }
}

/**
 * Checks a version passed in by a caller (`name` says which argument): a non-empty string of
 * printable ASCII, at most {@link MAX_VERSION_LENGTH} characters. Its value is opaque: a
 * well-formed version that the store never issued simply does not match.
 *
 * @throws BlobStoreError `invalid_argument` naming the argument.
 */
export function assertVersion(version: unknown, name: string): asserts version is string {
  let problem: string | undefined;
  if (typeof version !== "string") problem = `must be a string, not ${describeType(version)}`;
  else if (version.length === 0) problem = "must not be empty";
  else if (version.length > MAX_VERSION_LENGTH) {
    problem = `is ${version.length} characters long, over the limit of ${MAX_VERSION_LENGTH}`;
  } else if (!/^[\x21-\x7e]+$/.test(version)) {
    problem = "must be printable ASCII without spaces";
  }
  if (problem !== undefined) {
    throw new BlobStoreError("invalid_argument", `${named(name, version)} ${problem}`);
  }
}

/**
 * Checks a put condition: a known `mode`, and a valid `version` exactly when the mode is
 * `if_version_matches`.
 *
 * @throws BlobStoreError `invalid_argument` naming the field.
 */
export function assertPutCondition(condition: unknown): asserts condition is PutCondition {
  if (typeof condition !== "object" || condition === null) {
    throw new BlobStoreError(
      "invalid_argument",
      `put condition must be an object with a mode, not ${describeType(condition)}`,
    );
  }
  const { mode, version } = condition as { mode?: unknown; version?: unknown };
  switch (mode) {
    case "if_version_matches":
      assertVersion(version, "put condition version");
      return;
    case "create_only":
    case "overwrite":
      if (version !== undefined) {
        throw new BlobStoreError(
          "invalid_argument",
          `put condition version must be absent with mode ${mode}; only if_version_matches takes one`,
        );
      }
      return;
    default:
      throw new BlobStoreError(
        "invalid_argument",
        `put condition mode ${quote(mode)} is not one of create_only, if_version_matches, overwrite`,
      );
  }
}

/**
 * Checks an object's bytes: a `Uint8Array` of at most `maxBytes`.
 *
 * @throws BlobStoreError `invalid_argument` naming the key and the size.
 */
export function assertBlobData(
  data: unknown,
  maxBytes: number,
  key: string,
): asserts data is Uint8Array {
  if (!(data instanceof Uint8Array)) {
    throw new BlobStoreError(
      "invalid_argument",
      `data for blob key ${quote(key)} must be a Uint8Array, not ${describeType(data)}`,
    );
  }
  if (data.byteLength > maxBytes) {
    throw new BlobStoreError(
      "invalid_argument",
      `data for blob key ${quote(key)} is ${data.byteLength} bytes, over the limit of ${maxBytes}`,
    );
  }
}

/** `name`, followed by `value` quoted when it is a string (a message then says what it is). */
function named(name: string, value: unknown): string {
  return typeof value === "string" ? `${name} ${quote(value)}` : name;
}

/** `value` as a JSON string, cut to {@link QUOTE_LIMIT} characters, for error messages. */
function quote(value: unknown): string {
  if (typeof value !== "string") return describeType(value);
  const shown = value.length > QUOTE_LIMIT ? `${value.slice(0, QUOTE_LIMIT)}…` : value;
  return JSON.stringify(shown);
}

function describeType(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (value instanceof Uint8Array) return "a Uint8Array";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function describeCharacter(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  if (character === "\\") return `a backslash (${hex})`;
  if (character === " ") return `a space (${hex})`;
  if (code < 0x20 || code === 0x7f) return `a control character (${hex})`;
  return `'${character}' (${hex})`;
}
