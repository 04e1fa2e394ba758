import { create } from "@bufbuild/protobuf";
import { ErrorCode } from "../../gen/vettid/vsock/v1/frame_pb.js";
import {
  PutMode,
  type StorageDeleteRequest,
  type StorageDeleteResponse,
  StorageDeleteResponseSchema,
  type StorageGetRequest,
  type StorageGetResponse,
  StorageGetResponseSchema,
  StorageOutcome,
  type StoragePutRequest,
  type StoragePutResponse,
  StoragePutResponseSchema,
} from "../../gen/vettid/vsock/v1/storage_pb.js";
import { VsockError } from "../vsock/vsock-error.js";
import { assertBlobKey, assertBlobPrefix } from "./blob-arguments.js";
import type { BlobStore, PutCondition } from "./blob-store.js";
import { BlobStoreError, type BlobStoreErrorCode } from "./blob-store-error.js";

/** Options of {@link createStorageHandler}. */
export interface StorageHandlerOptions {
  /**
   * The only keys this enclave may touch start with this prefix (for example `vaults/`); others
   * are refused with `ERROR_CODE_PERMISSION_DENIED`. Required, with no default: which objects an
   * enclave may reach is a deployment decision. `""` allows every key.
   */
  readonly keyPrefix: string;
}

/**
 * Serves the vsock storage requests from a {@link BlobStore}: each method converts one request
 * message to one store call and its result to the response message, nothing more.
 */
export interface StorageHandler {
  /** `StorageGetRequest` → {@link BlobStore.get} → `StorageGetResponse` (OK or NOT_FOUND). */
  get(request: StorageGetRequest): Promise<StorageGetResponse>;
  /** `StoragePutRequest` → {@link BlobStore.put} → `StoragePutResponse`. */
  put(request: StoragePutRequest): Promise<StoragePutResponse>;
  /** `StorageDeleteRequest` → {@link BlobStore.delete} → `StorageDeleteResponse`. */
  delete(request: StorageDeleteRequest): Promise<StorageDeleteResponse>;
}

/** The vsock error code for each store failure, as the schema's ErrorCode comments define them. */
const ERROR_CODE: Readonly<Record<BlobStoreErrorCode, ErrorCode>> = {
  invalid_argument: ErrorCode.MALFORMED_FRAME,
  corrupt: ErrorCode.INTERNAL,
  unavailable: ErrorCode.UNAVAILABLE,
};

const OUTCOME = {
  ok: StorageOutcome.OK,
  not_found: StorageOutcome.NOT_FOUND,
  version_conflict: StorageOutcome.VERSION_CONFLICT,
} as const;

/**
 * The parent's handler for the enclave's storage requests. Failures are thrown as
 * {@link VsockError}s, ready to answer with an ErrorFrame: a malformed request (bad key, mode
 * unset, `expected_version` missing or superfluous) is `MALFORMED_FRAME`, a key outside
 * `keyPrefix` `PERMISSION_DENIED`, a store failure `UNAVAILABLE` (retryable) or `INTERNAL`
 * (a stored object failed its integrity check).
 *
 * @throws VsockError `MALFORMED_FRAME` when `keyPrefix` is not a valid prefix.
 */
export function createStorageHandler(
  store: BlobStore,
  options: StorageHandlerOptions,
): StorageHandler {
  const keyPrefix = options?.keyPrefix;
  check(() => assertBlobPrefix(keyPrefix));

  function checkKey(key: string, request: string): void {
    check(() => assertBlobKey(key));
    if (!key.startsWith(keyPrefix)) {
      throw new VsockError(
        ErrorCode.PERMISSION_DENIED,
        `${request}.key ${JSON.stringify(key)} is outside this enclave's prefix ${JSON.stringify(keyPrefix)}`,
      );
    }
  }

  return {
    async get(request) {
      checkKey(request.key, "StorageGetRequest");
      const result = await call(() =>
        store.get(request.key, request.version === "" ? undefined : request.version),
      );
      if (result.outcome !== "ok") {
        return create(StorageGetResponseSchema, { outcome: StorageOutcome.NOT_FOUND });
      }
      return create(StorageGetResponseSchema, {
        outcome: StorageOutcome.OK,
        data: result.data,
        version: result.version,
        modifiedAtMs: BigInt(result.modifiedAtMs),
      });
    },

    async put(request) {
      checkKey(request.key, "StoragePutRequest");
      const condition = putCondition(request);
      const result = await call(() => store.put(request.key, request.data, condition));
      return create(StoragePutResponseSchema, {
        outcome: OUTCOME[result.outcome],
        newVersion: result.outcome === "ok" ? result.version : "",
        currentVersion: result.outcome === "version_conflict" ? (result.currentVersion ?? "") : "",
      });
    },

    async delete(request) {
      checkKey(request.key, "StorageDeleteRequest");
      const expected = request.expectedVersion === "" ? undefined : request.expectedVersion;
      const result = await call(() => store.delete(request.key, expected));
      return create(StorageDeleteResponseSchema, { outcome: OUTCOME[result.outcome] });
    },
  };
}

/** The put condition a request asks for, checked against the schema's rules. */
function putCondition(request: StoragePutRequest): PutCondition {
  const expected = request.expectedVersion;
  switch (request.mode) {
    case PutMode.IF_VERSION_MATCHES:
      if (expected === "") {
        throw malformed(
          "StoragePutRequest.expected_version is required with PUT_MODE_IF_VERSION_MATCHES",
        );
      }
      return { mode: "if_version_matches", version: expected };
    case PutMode.CREATE_ONLY:
    case PutMode.OVERWRITE: {
      if (expected !== "") {
        throw malformed(
          `StoragePutRequest.expected_version must be empty with ${PutMode[request.mode]}; only PUT_MODE_IF_VERSION_MATCHES takes one`,
        );
      }
      return { mode: request.mode === PutMode.CREATE_ONLY ? "create_only" : "overwrite" };
    }
    default:
      throw malformed(
        `StoragePutRequest.mode ${PutMode[request.mode] ?? request.mode} is not CREATE_ONLY, IF_VERSION_MATCHES or OVERWRITE`,
      );
  }
}

function malformed(message: string): VsockError {
  return new VsockError(ErrorCode.MALFORMED_FRAME, message);
}

/** Runs a store call, turning what it throws into a {@link VsockError}. */
async function call<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (cause) {
    throw asVsockError(cause);
  }
}

/** Runs a check, turning what it throws into a {@link VsockError}. */
function check(assertion: () => void): void {
  try {
    assertion();
  } catch (cause) {
    throw asVsockError(cause);
  }
}

/**
 * A {@link BlobStoreError} as the matching {@link VsockError} (its message names the argument or
 * object, nothing secret: the store only holds ciphertext); anything else as `INTERNAL`.
 */
function asVsockError(cause: unknown): VsockError {
  if (cause instanceof VsockError) return cause;
  if (cause instanceof BlobStoreError) {
    return new VsockError(ERROR_CODE[cause.code], cause.message, { cause });
  }
  return new VsockError(ErrorCode.INTERNAL, "the storage request failed", { cause });
}
