import { create } from "@bufbuild/protobuf";
import {
  PutMode,
  StorageDeleteRequestSchema,
  StorageGetRequestSchema,
  StorageOutcome,
  StoragePutRequestSchema,
} from "../../gen/vettid/vsock/v1/storage_pb.js";
import { type BlobStore, BlobStoreError } from "../storage/index.js";
import type { VsockConnection } from "../vsock/index.js";

/**
 * The enclave's view of storage: a {@link BlobStore} whose calls are vsock storage requests the
 * parent performs. What crosses is already sealed (vault records); the parent learns keys, sizes
 * and timing. Failures of the link or the parent become `unavailable`.
 */
export function createVsockBlobStore(link: () => VsockConnection | undefined): BlobStore {
  const current = () => {
    const connection = link();
    if (connection === undefined) throw new BlobStoreError("unavailable", "no parent connected");
    return connection;
  };
  const call = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof BlobStoreError) throw error;
      throw new BlobStoreError(
        "unavailable",
        `storage through the parent failed: ${String(error)}`,
      );
    }
  };
  return {
    get: (key, version) =>
      call(async () => {
        const response = await current().request({
          case: "storageGetRequest",
          value: create(StorageGetRequestSchema, { key, version: version ?? "" }),
        });
        const answer = response.body.value;
        if (answer.outcome !== StorageOutcome.OK) return { outcome: "not_found" } as const;
        return {
          outcome: "ok",
          data: answer.data,
          version: answer.version,
          modifiedAtMs: Number(answer.modifiedAtMs),
        } as const;
      }),
    put: (key, data, condition) =>
      call(async () => {
        const response = await current().request({
          case: "storagePutRequest",
          value: create(StoragePutRequestSchema, {
            key,
            data,
            mode:
              condition.mode === "create_only"
                ? PutMode.CREATE_ONLY
                : condition.mode === "if_version_matches"
                  ? PutMode.IF_VERSION_MATCHES
                  : PutMode.OVERWRITE,
            expectedVersion: condition.mode === "if_version_matches" ? condition.version : "",
          }),
        });
        const answer = response.body.value;
        switch (answer.outcome) {
          case StorageOutcome.OK:
            return { outcome: "ok", version: answer.newVersion } as const;
          case StorageOutcome.NOT_FOUND:
            return { outcome: "not_found" } as const;
          case StorageOutcome.VERSION_CONFLICT:
            return {
              outcome: "version_conflict",
              ...(answer.currentVersion === "" ? {} : { currentVersion: answer.currentVersion }),
            } as const;
          default:
            throw new BlobStoreError(
              "unavailable",
              `the parent answered storage outcome ${answer.outcome}`,
            );
        }
      }),
    delete: (key, expectedVersion) =>
      call(async () => {
        const response = await current().request({
          case: "storageDeleteRequest",
          value: create(StorageDeleteRequestSchema, {
            key,
            expectedVersion: expectedVersion ?? "",
          }),
        });
        const outcome = response.body.value.outcome;
        if (outcome === StorageOutcome.OK) return { outcome: "ok" } as const;
        if (outcome === StorageOutcome.NOT_FOUND) return { outcome: "not_found" } as const;
        return { outcome: "version_conflict" } as const;
      }),
    // biome-ignore lint/correctness/useYield: the enclave has no list message; listing is the parent's.
    async *list() {
      throw new BlobStoreError("invalid_argument", "the enclave cannot list storage");
    },
  };
}
