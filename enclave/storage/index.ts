export {
  assertBlobData,
  assertBlobKey,
  assertBlobPrefix,
  assertPutCondition,
  assertVersion,
  blobKeyProblem,
  MAX_KEY_LENGTH,
  MAX_KEY_SEGMENT_LENGTH,
  MAX_VERSION_LENGTH,
} from "./blob-arguments.js";
export type {
  BlobListEntry,
  BlobStore,
  DeleteResult,
  GetResult,
  PutCondition,
  PutConditionMode,
  PutResult,
} from "./blob-store.js";
export type { BlobStoreErrorCode } from "./blob-store-error.js";
export { BlobStoreError } from "./blob-store-error.js";
export type { FilesystemBlobStoreOptions } from "./filesystem-blob-store.js";
export {
  createFilesystemBlobStore,
  DEFAULT_MAX_OBJECT_BYTES,
  DEFAULT_RETAINED_GENERATIONS,
} from "./filesystem-blob-store.js";
export type { StorageHandler, StorageHandlerOptions } from "./storage-handler.js";
export { createStorageHandler } from "./storage-handler.js";
