/**
 * The condition a put writes under; mirrors `vettid.vsock.v1.PutMode` (+ `expected_version`).
 * - `create_only`: write only if no object exists under the key (S3 `If-None-Match: *`).
 * - `if_version_matches`: write only if the current object's version is `version` (S3 `If-Match`).
 * - `overwrite`: write unconditionally. Not used for vault snapshots.
 */
export type PutCondition =
  | { readonly mode: "create_only" }
  | { readonly mode: "if_version_matches"; readonly version: string }
  | { readonly mode: "overwrite" };

/** The modes of {@link PutCondition}. */
export type PutConditionMode = PutCondition["mode"];

/** Result of {@link BlobStore.get}; mirrors `StorageGetResponse`. */
export type GetResult =
  | {
      readonly outcome: "ok";
      /** The object's bytes. */
      readonly data: Uint8Array;
      /** The version of these bytes: pass it to a later `if_version_matches` put or delete. */
      readonly version: string;
      /** Last-modified time reported by the store, ms since the Unix epoch. Informational only. */
      readonly modifiedAtMs: number;
    }
  | {
      /** No object under the key, or not the requested version. */
      readonly outcome: "not_found";
    };

/** Result of {@link BlobStore.put}; mirrors `StoragePutResponse`. */
export type PutResult =
  | {
      readonly outcome: "ok";
      /** Version of the object just written; the expected version for the next write. */
      readonly version: string;
    }
  | {
      /** `if_version_matches` and no object exists (it was deleted, or never written). */
      readonly outcome: "not_found";
    }
  | {
      /** `create_only` and an object exists, or `if_version_matches` and it has another version. */
      readonly outcome: "version_conflict";
      /** The object's current version, when the store reports it, so the caller can reload. */
      readonly currentVersion?: string;
    };

/** Result of {@link BlobStore.delete}; mirrors `StorageDeleteResponse`. */
export type DeleteResult = {
  /**
   * `ok`: deleted. `not_found`: there was nothing to delete. `version_conflict`: the object has
   * another version than the expected one; nothing was deleted.
   */
  readonly outcome: "ok" | "not_found" | "version_conflict";
};

/** One object found by {@link BlobStore.list}. */
export interface BlobListEntry {
  /** The object's key. */
  readonly key: string;
  /** Its current version. */
  readonly version: string;
  /** Its size in bytes. */
  readonly size: number;
  /** Last-modified time reported by the store, ms since the Unix epoch. Informational only. */
  readonly modifiedAtMs: number;
}

/**
 * Versioned object storage, the parent's side of the vsock storage messages
 * (`proto/vettid/vsock/v1/storage.proto`): `get`, `put` and `delete` map one to one onto
 * `StorageGet/Put/Delete`, outcomes and all. S3 serves it in production, a directory locally.
 *
 * The contract every implementation keeps:
 * - Outcomes the protocol names (`not_found`, `version_conflict`) are returned, never thrown.
 *   Failures are thrown as `BlobStoreError` (`invalid_argument`, `corrupt`, `unavailable`).
 * - Keys are checked with `assertBlobKey` (one rule set for every store, so a key that works
 *   locally works on S3); versions are opaque strings, compared only for equality.
 * - Conditional writes are atomic: of any number of concurrent puts expecting one version, at
 *   most one succeeds.
 * - A put or delete resolves `ok` only once the change is durable, so the enclave may acknowledge
 *   the member's call (the durability rule). A reader sees an old or a new object, never part of one.
 */
export interface BlobStore {
  /**
   * Reads the current object under `key`, or the object with `version` when given (stores keep
   * some earlier versions; an unknown or pruned version is `not_found`).
   *
   * @throws BlobStoreError `invalid_argument` for a bad key or version, `corrupt` when the stored
   *   object fails its integrity check, `unavailable` when the store could not be read.
   */
  get(key: string, version?: string): Promise<GetResult>;

  /**
   * Writes `data` under `key` if `condition` holds, atomically with respect to every other
   * writer, and resolves once the write is durable.
   *
   * @throws BlobStoreError `invalid_argument` for a bad key, condition or data, `unavailable` when
   *   the store did not complete the write (it may or may not have happened).
   */
  put(key: string, data: Uint8Array, condition: PutCondition): Promise<PutResult>;

  /**
   * Deletes the object under `key`, only if its current version is `expectedVersion` when given.
   *
   * @throws BlobStoreError as for {@link BlobStore.put}.
   */
  delete(key: string, expectedVersion?: string): Promise<DeleteResult>;

  /**
   * The current objects whose keys start with `prefix`, in ascending key order. For the parent's
   * own use (backups, operations): the enclave has no list message.
   *
   * @throws BlobStoreError `invalid_argument` for a bad prefix (while iterating), `unavailable`.
   */
  list(prefix: string): AsyncIterable<BlobListEntry>;
}
