import type { DescService } from "@bufbuild/protobuf";
import {
  type CallOptions,
  type Client,
  Code,
  ConnectError,
  createClient,
  type Transport,
} from "@connectrpc/connect";

/**
 * `createClient` from Connect, with one difference: leaving a response stream early (`break`,
 * `return` or a `throw` inside `for await`) cancels the call, and the server's handler is
 * aborted. Connect-ES's own streaming iterables leave out `return()`, so with plain `createClient`
 * only an `AbortSignal` or the deadline can end a stream the caller stopped reading.
 */
export function createRpcClient<T extends DescService>(
  service: T,
  transport: Transport,
): Client<T> {
  const client = createClient(service, transport) as Record<string, unknown>;
  for (const method of service.methods) {
    if (method.methodKind !== "server_streaming" && method.methodKind !== "bidi_streaming")
      continue;
    const call = client[method.localName] as (
      request: unknown,
      options?: CallOptions,
    ) => AsyncIterable<unknown>;
    client[method.localName] = (request: unknown, options: CallOptions = {}) => {
      const controller = new AbortController();
      const outer = options.signal;
      if (outer?.aborted) controller.abort(outer.reason);
      else outer?.addEventListener("abort", () => controller.abort(outer.reason), { once: true });
      const stream = call(request, { ...options, signal: controller.signal });
      return {
        [Symbol.asyncIterator]() {
          const iterator = stream[Symbol.asyncIterator]();
          let finished = false;
          return {
            async next() {
              const result = await iterator.next();
              if (result.done === true) finished = true;
              return result;
            },
            async return(value?: unknown) {
              if (!finished) {
                finished = true;
                controller.abort(
                  new ConnectError("the caller stopped reading the stream", Code.Canceled),
                );
              }
              return { done: true as const, value };
            },
          };
        },
      };
    };
  }
  return client as Client<T>;
}
