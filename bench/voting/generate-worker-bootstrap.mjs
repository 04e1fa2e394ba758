// Starts the bench data generator worker from the TypeScript sources: registers tsx in this
// worker thread (the bench runs under tsx), then loads the worker.
import { register } from "tsx/esm/api";

register();
await import("./generate-worker.ts");
