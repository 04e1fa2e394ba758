import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import {
  assertBlobData,
  assertBlobKey,
  assertBlobPrefix,
  assertPutCondition,
  assertVersion,
  type BlobListEntry,
  type BlobStore,
  BlobStoreError,
  blobKeyProblem,
  DEFAULT_MAX_OBJECT_BYTES,
  type DeleteResult,
  type GetResult,
  type PutResult,
} from "../../enclave/storage/index.js";

/**
 * How often an unconditional delete re-reads the object's ETag and tries again when another
 * writer replaced the object between the read and the delete. Each retry means someone else made
 * progress, so a handful is only exceeded under pathological contention (then `unavailable`).
 */
export const DEFAULT_S3_DELETE_ATTEMPTS = 5;

/** Keys per ListObjectsV2 page: S3's maximum, so listing a prefix takes as few calls as possible. */
const LIST_PAGE_SIZE = 1000;

/** Options of {@link createS3BlobStore}. */
export interface S3BlobStoreOptions {
  /** The S3 client (region, credentials and retries are its business). */
  readonly client: S3Client;
  /** The bucket. Versioning may be on or off: this store never relies on object versions. */
  readonly bucket: string;
  /**
   * Prefix inside the bucket under which every key lives, ending with `/` (for example
   * `credential-backups/`), so one bucket can hold several stores. Default: none.
   */
  readonly keyPrefix?: string;
  /** Largest object accepted by `put`. Default {@link DEFAULT_MAX_OBJECT_BYTES}, as the local store. */
  readonly maxObjectBytes?: number;
  /** Default {@link DEFAULT_S3_DELETE_ATTEMPTS}. */
  readonly deleteAttempts?: number;
}

/**
 * A {@link BlobStore} on S3 (`@aws-sdk/client-s3`), for vault snapshots and credential backups.
 *
 * Versions are **ETags** (without their quotes): S3 returns one for every write and takes it back
 * in `If-Match`, which gives atomic compare-and-swap without bucket versioning.
 * - `create_only` → `PutObject` with `If-None-Match: *`; `if_version_matches` → `If-Match: "<etag>"`.
 *   412 Precondition Failed and 409 ConditionalRequestConflict (a concurrent conditional write)
 *   are `version_conflict`; 404 on `If-Match` (no object) is `not_found`.
 * - Every put sends `x-amz-checksum-sha256`, so S3 refuses bytes altered on the way; every get asks
 *   for the checksum back (`ChecksumMode: ENABLED`) and the SDK checks the bytes against it; a
 *   mismatch is `corrupt`.
 * - `get(key, version)` reads the current object with `If-Match`: only the current version can
 *   be read back (the filesystem store keeps a few older generations; this one does not, and an
 *   older version is `not_found`).
 * - `delete` with an expected version is `DeleteObject` with `If-Match`; without one it reads the
 *   current ETag first (S3 answers a delete of a missing key with success, and `not_found` must be
 *   reported) and deletes conditionally on it, re-reading if another writer came in between.
 * - Two writes of identical bytes share an ETag, so a version can repeat for identical content
 *   (sealed snapshots and encrypted backups never repeat: their nonces differ).
 * - Errors other than the outcomes above (throttling, 5xx, access denied, network) are
 *   `BlobStoreError("unavailable")` naming the operation, the key and S3's error code.
 */
export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore {
  const { client, bucket } = options;
  if (typeof bucket !== "string" || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new TypeError(`bucket must be an S3 bucket name, got ${JSON.stringify(bucket)}`);
  }
  const prefix = options.keyPrefix ?? "";
  if (prefix !== "") {
    const problem = prefix.endsWith("/")
      ? blobKeyProblem(prefix.slice(0, -1))
      : "must end with '/'";
    if (problem !== undefined)
      throw new TypeError(`keyPrefix ${JSON.stringify(prefix)} ${problem}`);
  }
  const maxObjectBytes = options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
  const deleteAttempts = options.deleteAttempts ?? DEFAULT_S3_DELETE_ATTEMPTS;
  const objectKey = (key: string) => `${prefix}${key}`;

  async function head(key: string): Promise<string | undefined> {
    try {
      const output = await client.send(
        new HeadObjectCommand({ Bucket: bucket, Key: objectKey(key) }),
      );
      return versionOf(output.ETag, "HeadObject", key);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw unavailable("HeadObject", key, error);
    }
  }

  return {
    async get(key, version) {
      assertBlobKey(key);
      if (version !== undefined) assertVersion(version, "version");
      let output: Awaited<ReturnType<typeof getObject>>;
      const getObject = () =>
        client.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: objectKey(key),
            ChecksumMode: "ENABLED",
            ...(version === undefined ? {} : { IfMatch: quote(version) }),
          }),
        );
      try {
        output = await getObject();
      } catch (error) {
        if (isNotFound(error) || statusOf(error) === 412) return { outcome: "not_found" };
        throw mapReadError("GetObject", key, error);
      }
      let data: Uint8Array;
      try {
        data = (await output.Body?.transformToByteArray()) ?? new Uint8Array();
      } catch (error) {
        throw mapReadError("GetObject", key, error);
      }
      const result: GetResult = {
        outcome: "ok",
        data,
        version: versionOf(output.ETag, "GetObject", key),
        modifiedAtMs: output.LastModified?.getTime() ?? 0,
      };
      return result;
    },

    async put(key, data, condition): Promise<PutResult> {
      assertBlobKey(key);
      assertPutCondition(condition);
      assertBlobData(data, maxObjectBytes, key);
      try {
        const output = await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: objectKey(key),
            Body: data,
            ContentLength: data.byteLength,
            ContentType: "application/octet-stream",
            ChecksumAlgorithm: "SHA256",
            ...(condition.mode === "create_only" ? { IfNoneMatch: "*" } : {}),
            ...(condition.mode === "if_version_matches"
              ? { IfMatch: quote(condition.version) }
              : {}),
          }),
        );
        return { outcome: "ok", version: versionOf(output.ETag, "PutObject", key) };
      } catch (error) {
        const status = statusOf(error);
        if (status === 412 || status === 409) return { outcome: "version_conflict" };
        if (condition.mode === "if_version_matches" && isNotFound(error)) {
          return { outcome: "not_found" };
        }
        throw unavailable("PutObject", key, error);
      }
    },

    async delete(key, expectedVersion): Promise<DeleteResult> {
      assertBlobKey(key);
      if (expectedVersion !== undefined) assertVersion(expectedVersion, "expectedVersion");
      for (let attempt = 0; attempt < deleteAttempts; attempt++) {
        const version = expectedVersion ?? (await head(key));
        if (version === undefined) return { outcome: "not_found" };
        try {
          await client.send(
            new DeleteObjectCommand({
              Bucket: bucket,
              Key: objectKey(key),
              IfMatch: quote(version),
            }),
          );
          return { outcome: "ok" };
        } catch (error) {
          if (isNotFound(error)) return { outcome: "not_found" };
          const status = statusOf(error);
          if (status === 412 || status === 409) {
            if (expectedVersion !== undefined) return { outcome: "version_conflict" };
            continue; // replaced since the HEAD: read the new ETag and try again
          }
          throw unavailable("DeleteObject", key, error);
        }
      }
      throw new BlobStoreError(
        "unavailable",
        `DeleteObject of blob key ${JSON.stringify(key)}: the object kept changing (${deleteAttempts} attempts)`,
      );
    },

    async *list(listPrefix): AsyncIterable<BlobListEntry> {
      assertBlobPrefix(listPrefix);
      let token: string | undefined;
      do {
        let output: ListObjectsV2CommandOutput;
        try {
          output = await client.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: objectKey(listPrefix),
              MaxKeys: LIST_PAGE_SIZE,
              ...(token === undefined ? {} : { ContinuationToken: token }),
            }),
          );
        } catch (error) {
          throw unavailable("ListObjectsV2", listPrefix, error);
        }
        for (const entry of output.Contents ?? []) {
          const full = entry.Key ?? "";
          const key = full.slice(prefix.length);
          // Objects this store could not have written (foreign keys) are not listed.
          if (!full.startsWith(prefix) || blobKeyProblem(key) !== undefined) continue;
          yield {
            key,
            version: versionOf(entry.ETag, "ListObjectsV2", key),
            size: entry.Size ?? 0,
            modifiedAtMs: entry.LastModified?.getTime() ?? 0,
          };
        }
        token = output.IsTruncated === true ? output.NextContinuationToken : undefined;
      } while (token !== undefined);
    },
  };
}

/** An ETag as sent in `If-Match`: S3's ETags are quoted strings. */
function quote(version: string): string {
  return `"${version}"`;
}

/** The version of an object: its ETag without the quotes. */
function versionOf(etag: string | undefined, operation: string, key: string): string {
  const version = etag?.replace(/^"(.*)"$/, "$1") ?? "";
  if (version === "" || !/^[\x21-\x7e]+$/.test(version)) {
    throw new BlobStoreError(
      "unavailable",
      `${operation} of blob key ${JSON.stringify(key)}: S3 returned no usable ETag`,
    );
  }
  return version;
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

function nameOf(error: unknown): string {
  const name = (error as { name?: unknown; Code?: unknown } | null)?.name;
  return typeof name === "string" ? name : "UnknownError";
}

function isNotFound(error: unknown): boolean {
  const name = nameOf(error);
  return name === "NoSuchKey" || name === "NotFound" || statusOf(error) === 404;
}

/** A failed read: the SDK's checksum validation failing means the bytes are not what was stored. */
function mapReadError(operation: string, key: string, error: unknown): BlobStoreError {
  const message = error instanceof Error ? error.message : "";
  if (/checksum mismatch/i.test(message)) {
    return new BlobStoreError(
      "corrupt",
      `${operation} of blob key ${JSON.stringify(key)}: the bytes do not match their stored SHA-256`,
      { cause: error },
    );
  }
  return unavailable(operation, key, error);
}

function unavailable(operation: string, key: string, error: unknown): BlobStoreError {
  if (error instanceof BlobStoreError) return error;
  const status = statusOf(error);
  return new BlobStoreError(
    "unavailable",
    `${operation} of blob key ${JSON.stringify(key)} failed: S3 ${nameOf(error)}${status === undefined ? "" : ` (HTTP ${status})`}`,
    { cause: error },
  );
}
