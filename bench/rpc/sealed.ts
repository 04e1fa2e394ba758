import { VaultEchoService } from "../../gen/vettid/diagnostics/v1/echo_pb.js";
import {
  createNatsTransport,
  createRequestOpener,
  createRequestSealer,
  createRpcClient,
  createSealingKeyPair,
  serveNats,
} from "../../rpc/index.js";
import { createVaultEchoService } from "../../server/diagnostics/index.js";
import { CALL_TIMEOUT_MS, expectEcho, type Variant } from "./variant.js";

const MEMBER = "00000000-0000-4000-8000-0000000000be";

/**
 * The transport with sealing: the vault echo service (`VaultEchoService`, sealed to a fresh
 * X25519 key) called as a member would call its vault. Each call does an HPKE encapsulation and
 * seal on the client, an open on the server, and the OHTTP-style sealed response.
 */
export function sealedVariant(): Variant {
  return {
    key: "sealed",
    label: "transport, sealed",
    async open(env) {
      const keyPair = await createSealingKeyPair();
      const serverConnection = await env.connect("sealed-server");
      const clientConnection = await env.connect("sealed-client");
      const server = await serveNats({
        connection: serverConnection,
        routes: (router) => router.service(VaultEchoService, createVaultEchoService()),
        sealing: createRequestOpener(keyPair),
      });
      const client = createRpcClient(
        VaultEchoService,
        createNatsTransport({
          connection: clientConnection,
          subjectValues: { owner_guid: MEMBER },
          sealing: createRequestSealer(keyPair.publicKey),
        }),
      );
      return {
        async echo(payload) {
          const response = await client.vaultEcho(
            { echo: { payload } },
            { timeoutMs: CALL_TIMEOUT_MS },
          );
          expectEcho(response.echo?.payload.length ?? 0, payload.length);
        },
        async close() {
          await server.close();
          await clientConnection.close();
          await serverConnection.close();
        },
      };
    },
  };
}
