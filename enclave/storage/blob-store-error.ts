/**
 * What went wrong in a {@link BlobStore} call, as opposed to an outcome the store answered with
 * (`not_found`, `version_conflict`), which is never an error. A closed set:
 * - `invalid_argument`: the caller passed a key, prefix, version, condition or data the store
 *   refuses; the message names the argument and what was wrong with it. Retrying fails again.
 * - `corrupt`: a stored object failed its integrity check (bad header, content not matching its
 *   hash). Nothing a retry fixes; an operator has to look. The object is never returned.
 * - `unavailable`: the backing store did not do the operation (an I/O error, the service
 *   unreachable or throttling, writers contending past the retry limit). Retryable with backoff;
 *   a put or delete that failed this way may or may not have happened, so re-read before retrying.
 *
 * @see BlobStoreError
 */
export type BlobStoreErrorCode = "invalid_argument" | "corrupt" | "unavailable";

/**
 * The one error type of the blob stores. The message names what was wrong (the key, the argument,
 * the file); `cause` (when set) is the underlying error, for logs.
 */
export class BlobStoreError extends Error {
  override readonly name = "BlobStoreError";

  /** Which kind of failure this is; see {@link BlobStoreErrorCode}. */
  readonly code: BlobStoreErrorCode;

  /**
   * @param code - the kind of failure
   * @param message - what was wrong, naming the argument or object
   * @param options - `cause`, for logs
   */
  constructor(code: BlobStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
