/**
 * Largest request body the HTTP API accepts, in bytes: 128 KiB. The largest legitimate request is
 * an UploadCredentialBackup with a 64 KiB backup, which JSON carries as base64 (about 87 KiB),
 * plus its device proof; EnrollStart's platform attestation is at most 16 KiB. Anything bigger is
 * refused at the edge with 413 before it is read further or decoded.
 */
export const DEFAULT_MAX_REQUEST_BYTES = 128 * 1024;

/**
 * Longest deadline a caller may ask for (`connect-timeout-ms`): 30 s, API Gateway's own limit
 * for an integration, so a call never outlives its gateway.
 */
export const DEFAULT_MAX_TIMEOUT_MS = 30_000;
