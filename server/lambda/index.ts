export type { ApiGatewayHandler } from "./api-gateway-adapter.js";
export {
  createApiGatewayHandler,
  DEFAULT_LAMBDA_RESPONSE_MARGIN_MS,
} from "./api-gateway-adapter.js";
export {
  lambdaServiceContext,
  memberSigningKeyFromSecret,
} from "./lambda-context.js";
export { createLazyEnclaveGateway } from "./lazy-enclave-gateway.js";
export type { LazyNatsConnection, LazyNatsConnectionOptions } from "./lazy-nats-connection.js";
export {
  createLazyNatsConnection,
  DEFAULT_NATS_CONNECT_TIMEOUT_MS,
} from "./lazy-nats-connection.js";
