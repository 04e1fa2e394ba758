import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);

it("`npm start` brings the local stack up in operator mode and both call paths answer", async () => {
  const tsx = new URL("../../node_modules/.bin/tsx", import.meta.url).pathname;
  const script = new URL("../../scripts/start.ts", import.meta.url).pathname;
  const { stdout } = await run(tsx, [script, "--once", "--port", "0"], { timeout: 60_000 });
  expect(stdout).toContain("VettID local stack is up.");
  expect(stdout).toContain("operator mode");
  expect(stdout).toContain('Echo as an operator user -> "hello over NATS"');
  expect(stdout).toMatch(
    /sealed VaultEcho as member \S+ \(member JWT, device-held key\) -> "hello, sealed"/,
  );
});
