import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** Places Debian's package and common installs put the binary, searched after $PATH. */
const FALLBACK_LOCATIONS = [
  "/usr/sbin/nats-server",
  "/usr/local/bin/nats-server",
  "/usr/bin/nats-server",
];

/**
 * Finds the `nats-server` executable: `$NATS_SERVER_BIN`, then `$PATH`, then the usual places
 * (Debian installs it in /usr/sbin, which is not on every user's PATH).
 */
export function findNatsServerBinary(): string | undefined {
  const candidates = [
    process.env.NATS_SERVER_BIN,
    ...(process.env.PATH ?? "").split(delimiter).map((dir) => join(dir, "nats-server")),
    ...FALLBACK_LOCATIONS,
  ];
  for (const candidate of candidates) {
    if (candidate === undefined || candidate === "" || candidate === "nats-server") continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}
