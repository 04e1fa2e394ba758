import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  EchoBidiRequestSchema,
  EchoRequestSchema,
  type VaultEchoService,
} from "../../gen/vettid/diagnostics/v1/echo_pb.js";
import { createEchoService, type EchoServiceHooks } from "./echo-service.js";

/**
 * The echo service as a vault serves it (`vettid.diagnostics.v1.VaultEchoService`): sealed, on
 * the member's own subjects. It answers exactly as {@link createEchoService} does.
 */
export function createVaultEchoService(
  hooks: EchoServiceHooks = {},
): ServiceImpl<typeof VaultEchoService> {
  const echo = createEchoService(hooks);
  return {
    async vaultEcho(request, context) {
      return { echo: await echo.echo(request.echo ?? create(EchoRequestSchema), context) };
    },
    async *vaultEchoStream(requests, context) {
      async function* unwrap() {
        for await (const request of requests) yield request.echo ?? create(EchoBidiRequestSchema);
      }
      for await (const response of echo.echoBidi(unwrap(), context)) {
        yield { echo: response };
      }
    },
  };
}
