export type { NatsTransportOptions } from "./nats-transport.js";
export { createNatsTransport } from "./nats-transport.js";
export { createRpcClient } from "./rpc-client.js";
