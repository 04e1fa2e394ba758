import { ConnectError } from "@connectrpc/connect";

/** Awaits a call that must fail and returns its error as a ConnectError. */
export async function failure(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail");
}

/** Drains a response stream that must fail and returns its error. */
export function streamFailure(stream: AsyncIterable<unknown>): Promise<ConnectError> {
  return failure(
    (async () => {
      for await (const _ of stream) {
        // responses before the failure are not examined here
      }
    })(),
  );
}
