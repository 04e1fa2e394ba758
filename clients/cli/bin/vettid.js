#!/usr/bin/env node
// The `vettid` command from a checkout: registers tsx so Node runs the TypeScript sources as they
// are (no build step), then hands over to the CLI. `npx vettid …` and `node clients/cli/bin/vettid.js …`.
import { register } from "tsx/esm/api";

register();
await import("../main.ts");
