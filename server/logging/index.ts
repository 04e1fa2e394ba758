export type { Logger } from "./logger.js";
export { createConsoleLogger, describeError, silentLogger } from "./logger.js";
