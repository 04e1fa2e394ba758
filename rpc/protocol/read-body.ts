import { readAllBytes } from "@connectrpc/connect/protocol";

/**
 * Joins a unary body into one message. Size limits are enforced before this point (NATS's
 * max_payload on the wire, Connect's readMaxBytes above it), so no second limit applies here.
 */
export async function readBody(body: AsyncIterable<Uint8Array> | undefined): Promise<Uint8Array> {
  return body === undefined ? new Uint8Array(0) : await readAllBytes(body, Number.MAX_SAFE_INTEGER);
}
