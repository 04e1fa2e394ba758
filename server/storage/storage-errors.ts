import { Code, ConnectError } from "@connectrpc/connect";

/** Whether a DynamoDB call failed because its condition expression did not hold. */
export function isConditionalCheckFailed(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "ConditionalCheckFailedException";
}

/**
 * The error a service answers when a table could not be read or written (throttling, network,
 * a missing table): `unavailable`, naming the operation and the table, never the SDK's message
 * (which can quote item contents). The SDK error is kept as `cause`, for logs only.
 */
export function storageUnavailable(operation: string, table: string, cause: unknown): ConnectError {
  return new ConnectError(
    `storage is unavailable (${operation} on ${table}); retry later`,
    Code.Unavailable,
    undefined,
    undefined,
    cause,
  );
}
