// Starts the audit worker from the TypeScript sources (a checkout run through tsx): registers
// tsx in this worker thread, then loads the worker.
import { register } from "tsx/esm/api";

register();
await import("./audit-worker.ts");
