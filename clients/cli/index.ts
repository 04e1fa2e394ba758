export type { ExitCode } from "./exit-codes.js";
export { CliError, EXIT_CODES, usageError } from "./exit-codes.js";
export type { CliIo, Output } from "./output.js";
export { jsonReplacer, outputFor, processIo, table, withJsonOption } from "./output.js";
export type { RegisterCommand } from "./program.js";
export { createProgram, exitCodeOf, runCli } from "./program.js";
export type { Progress } from "./progress.js";
export { createProgress } from "./progress.js";
