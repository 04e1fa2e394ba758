import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  type EchoBehavior,
  EchoBehaviorSchema,
  type EchoService,
} from "../../gen/vettid/diagnostics/v1/echo_pb.js";
import { subjectValuesKey } from "../../rpc/index.js";

/** Hooks for observing the echo service from tests and diagnostics. */
export interface EchoServiceHooks {
  /** Called when a call that waited for cancellation ends, with the reason its signal gave. */
  readonly onAbort?: (method: string, reason: ConnectError) => void;
}

/**
 * The diagnostic echo service (`vettid.diagnostics.v1.EchoService`): echoes payloads in each call
 * kind and, on request, delays, fails with a chosen code, waits for cancellation, or echoes
 * headers and trailers. It serves the RPC conformance tests, the benchmark and operators' checks.
 */
export function createEchoService(hooks: EchoServiceHooks = {}): ServiceImpl<typeof EchoService> {
  return {
    async echo(request, context) {
      await behave(request.behavior, context, "Echo", hooks);
      return {
        payload: request.payload,
        text: request.text,
        subjectValues: { ...context.values.get(subjectValuesKey) },
      };
    },

    async *echoServerStream(request, context) {
      echoHeaders(request.behavior, context);
      for (let index = 0; index < request.repeat; index++) {
        await pause(request.behavior?.delayMs ?? 0, context);
        yield { index, payload: request.payload };
      }
      await behave(
        request.behavior && { ...request.behavior, delayMs: 0, echoHeaders: false },
        context,
        "EchoServerStream",
        hooks,
      );
    },

    async echoClientStream(requests, context) {
      let count = 0;
      let behavior: EchoBehavior | undefined;
      const parts: Uint8Array[] = [];
      for await (const request of requests) {
        if (count === 0) behavior = request.behavior;
        count++;
        parts.push(request.payload);
      }
      await behave(behavior, context, "EchoClientStream", hooks);
      return { count, payload: Buffer.concat(parts) };
    },

    async *echoBidi(requests, context) {
      let index = 0;
      for await (const request of requests) {
        await behave(request.behavior, context, "EchoBidi", hooks);
        yield { index: index++, payload: request.payload };
      }
    },
  };
}

async function behave(
  behavior: EchoBehavior | undefined,
  context: HandlerContext,
  method: string,
  hooks: EchoServiceHooks,
): Promise<void> {
  if (behavior === undefined) return;
  echoHeaders(behavior, context);
  await pause(behavior.delayMs, context);
  if (behavior.waitForCancel) {
    const reason = await new Promise<ConnectError>((resolve) => {
      const done = () => resolve(ConnectError.from(context.signal.reason, Code.Canceled));
      if (context.signal.aborted) done();
      else context.signal.addEventListener("abort", done, { once: true });
    });
    hooks.onAbort?.(method, reason);
    throw reason;
  }
  if (behavior.failCode !== 0) {
    if (!(behavior.failCode in Code) || behavior.failCode > 16) {
      throw new ConnectError(
        `fail_code ${behavior.failCode} is not a Connect code`,
        Code.InvalidArgument,
      );
    }
    // The behaviour rides along as an error detail, so callers can check details round-trip.
    throw new ConnectError(behavior.failMessage, behavior.failCode as Code, undefined, [
      { desc: EchoBehaviorSchema, value: behavior },
    ]);
  }
}

function echoHeaders(behavior: EchoBehavior | undefined, context: HandlerContext): void {
  if (behavior?.echoHeaders !== true) return;
  context.requestHeader.forEach((value, name) => {
    if (!name.startsWith("echo-")) return;
    context.responseHeader.set(name, value);
    context.responseTrailer.set(`echo-trailer-${name.slice("echo-".length)}`, value);
  });
}

function pause(ms: number, context: HandlerContext): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      context.signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(ConnectError.from(context.signal.reason, Code.Canceled));
    };
    context.signal.addEventListener("abort", onAbort, { once: true });
  });
}
