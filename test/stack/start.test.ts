import { execFile } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);

it("`npm start` brings the whole local stack up, checks it, and a second start reuses its state and runs the demo journey", async () => {
  const tsx = new URL("../../node_modules/.bin/tsx", import.meta.url).pathname;
  const script = new URL("../../scripts/start.ts", import.meta.url).pathname;
  const state = await mkdtemp(join(tmpdir(), "vettid-stack-"));
  const start = async (...extra: string[]) =>
    (
      await run(
        tsx,
        [
          script,
          "--once",
          ...extra,
          "--port",
          "0",
          "--http-port",
          "0",
          "--dynamo-port",
          "0",
          "--state",
          state,
        ],
        { timeout: 150_000 },
      )
    ).stdout;
  try {
    const first = await start();
    expect(first).toContain("VettID local stack is up.");
    expect(first).toMatch(/state {11}\S+ \(created:/);
    expect(first).toContain("operator mode");
    expect(first).toMatch(/DynamoDB {8}http:\/\/127\.0\.0\.1:\d+ \(dynalite/);
    expect(first).toMatch(/HTTP API {8}http:\/\/127\.0\.0\.1:\d+/);
    expect(first).toContain('Echo as an operator user -> "hello over NATS"');
    expect(first).toMatch(/enclave attestation verified by the backend .* -> enclave-local-1/);
    expect(first).toContain("HTTP API: EnrollStart {} -> 400 invalid_argument");
    expect(first).toMatch(/invitation {6}[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}/);
    // Secrets stay private to the user.
    expect((await stat(join(state, "nats-trust.json"))).mode & 0o077).toBe(0);
    expect((await stat(join(state, "operator-control.key.pem"))).mode & 0o077).toBe(0);

    const second = await start("--demo");
    expect(second).toMatch(/state {11}\S+ \(reused:/);
    // The demo journey ran against the reused stack, step by step, to the end.
    expect(second).toMatch(/1\. enroll with the invitation .* — member [0-9a-f-]{36}/);
    expect(second).toContain('read the secret back — "hunter2"');
    expect(second).toContain("Demo done: member");
    const account = (text: string) => /account (A\w+)…/.exec(text)?.[1];
    expect(account(second)).toBe(account(first));
    expect(second).toMatch(/enclave attestation verified by the backend .* -> enclave-local-1/);
  } finally {
    await rm(state, { recursive: true, force: true });
  }
}, 300_000);
