/**
 * What went wrong in an {@link Nsm} call. A closed set, so callers can act on it:
 * - `invalid_argument`: the caller passed something the NSM refuses (an oversized attestation
 *   field, an empty seal context, a plaintext over the seal limit); retrying the same call fails again.
 * - `unseal_failed`: a sealed blob did not open: it was altered, sealed under another context or
 *   another sealing key, or is not a sealed blob at all. Never retryable; the message says which.
 * - `state_invalid`: the NSM's own state (the dev root, the dev sealing key, the measured code) is
 *   missing, unreadable or inconsistent. An operator has to look.
 * - `unavailable`: the device or service behind the NSM did not answer (on Nitro: `/dev/nsm`, or
 *   KMS through the parent's proxy). Retryable. The dev NSM never reports it.
 *
 * @see Nsm
 */
export type NsmErrorCode = "invalid_argument" | "unseal_failed" | "state_invalid" | "unavailable";

/**
 * The one error type of the NSM seam. The message names what was wrong; `cause` (when set) is for
 * logs only and may hold details that must not leave the enclave.
 */
export class NsmError extends Error {
  override readonly name = "NsmError";

  /** Which kind of failure this is; see {@link NsmErrorCode}. */
  readonly code: NsmErrorCode;

  /**
   * @param code - the kind of failure
   * @param message - what was wrong, naming the field or input
   * @param options - `cause`, for logs
   */
  constructor(code: NsmErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
