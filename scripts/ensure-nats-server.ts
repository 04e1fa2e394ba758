/**
 * Makes sure a `nats-server` binary is available, installing Debian's package when running as root.
 * Called by `./run` (and `npm test` / `npm start`) before anything needs the server.
 */
import { execFileSync } from "node:child_process";
import { findNatsServerBinary } from "./lib/nats-server-binary.js";

const found = findNatsServerBinary();
if (found !== undefined) {
  process.exit(0);
}
const isRoot = process.getuid?.() === 0;
if (!isRoot) {
  console.error(
    [
      "nats-server is not installed, and installing it needs root.",
      "Install it with:  sudo apt-get update && sudo apt-get install -y nats-server",
      "or put a nats-server binary on PATH, or set NATS_SERVER_BIN to its path.",
    ].join("\n"),
  );
  process.exit(1);
}
console.error("nats-server not found; installing Debian's nats-server package…");
try {
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-qq", "nats-server"], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
} catch (error) {
  console.error(`installing nats-server failed: ${(error as Error).message}`);
  process.exit(1);
}
if (findNatsServerBinary() === undefined) {
  console.error("apt-get finished but nats-server is still not found");
  process.exit(1);
}
