import type { EnclaveGateway } from "../enrollment/enclave-gateway.js";
import {
  createNatsEnclaveGateway,
  type NatsEnclaveGatewayOptions,
} from "../enrollment/nats-enclave-gateway.js";
import type { LazyNatsConnection } from "./lazy-nats-connection.js";

/**
 * The NATS enclave gateway over a connection made on first use (and remade after it closed):
 * the gateway a Lambda holds from cold start without touching the network there.
 */
export function createLazyEnclaveGateway(
  nats: LazyNatsConnection,
  options: Omit<NatsEnclaveGatewayOptions, "connection">,
): EnclaveGateway {
  let gateway: { connection: unknown; gateway: EnclaveGateway } | undefined;
  const current = async () => {
    const connection = await nats.get();
    if (gateway?.connection !== connection) {
      gateway = { connection, gateway: createNatsEnclaveGateway({ ...options, connection }) };
    }
    return gateway.gateway;
  };
  return {
    getAttestation: async (nonce) => (await current()).getAttestation(nonce),
    createCredential: async (request, key) => (await current()).createCredential(request, key),
  };
}
