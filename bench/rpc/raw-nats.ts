import { EchoService } from "../../gen/vettid/diagnostics/v1/echo_pb.js";
import { methodSubject } from "../../rpc/index.js";
import { CALL_TIMEOUT_MS, expectEcho, type Variant } from "./variant.js";

/** The echo method's subject (`Diagnostics.echo.Echo`); the raw baseline uses it too. */
export const ECHO_SUBJECT = methodSubject(EchoService.method.echo, {});

/**
 * The baseline: plain NATS request/reply, a responder that sends back what it got, on its own
 * connection. No headers, no Protobuf, no Connect: what any RPC over NATS must at least cost.
 */
export function rawNatsVariant(): Variant {
  return {
    key: "raw_nats",
    label: "raw NATS",
    async open(env) {
      const responder = await env.connect("raw-responder");
      const requester = await env.connect("raw-requester");
      const subscription = responder.subscribe(ECHO_SUBJECT, {
        callback: (_error, msg) => msg.respond(msg.data),
      });
      await responder.flush();
      return {
        async echo(payload) {
          const reply = await requester.request(ECHO_SUBJECT, payload, {
            timeout: CALL_TIMEOUT_MS,
          });
          expectEcho(reply.data.length, payload.length);
        },
        async close() {
          subscription.unsubscribe();
          await requester.close();
          await responder.close();
        },
      };
    },
  };
}
