export type { NatsRpcServer, ServeNatsOptions } from "./serve-nats.js";
export { serveNats } from "./serve-nats.js";
export { subjectValuesKey } from "./subject-values.js";
