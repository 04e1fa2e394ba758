export type { NatsServerHandle, NatsServerOptions } from "../../scripts/lib/nats-server-process.js";
export { freePort, startNatsServer } from "../../scripts/lib/nats-server-process.js";
