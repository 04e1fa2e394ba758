/**
 * Crash safety of the credential store: a child process rotating credentials into a file storage
 * directory is killed (SIGKILL) at chosen points and at random moments; afterwards the stored
 * credential is always whole, and always the newest one the child had finished saving (or the one
 * it was saving).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createCredentialStore, createFileSecureStorage } from "../../clients/sdk/storage/index.js";
import { testCredential } from "./test-credential.js";

const WRITER = fileURLToPath(new URL("./credential-writer.ts", import.meta.url));

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "vettid-crash-"));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** Starts the writer; `lines` collects what it printed. */
function writer(mode: string): {
  child: ChildProcess;
  lines: string[];
  waitFor(line: RegExp): Promise<void>;
} {
  const child = spawn(process.execPath, ["--import", "tsx", WRITER, directory, mode], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: string[] = [];
  const waiters: { line: RegExp; resolve: () => void }[] = [];
  let buffer = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split("\n");
    buffer = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.line.test(line))) waiter.resolve();
    }
  });
  return {
    child,
    lines,
    waitFor: (line) =>
      new Promise<void>((resolve, reject) => {
        if (lines.some((l) => line.test(l))) return resolve();
        waiters.push({ line, resolve });
        child.once("exit", (code) => reject(new Error(`writer exited (${code}) before ${line}`)));
      }),
  };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

async function stored() {
  // Opening the storage is what an app restart does (it also removes unfinished writes).
  return createCredentialStore(await createFileSecureStorage(directory));
}

/** Version 1 stored, as after enrollment. */
async function enrolled() {
  await (await stored()).save(testCredential(1));
}

describe("killed at a known step of a rotation", () => {
  it("before the new version is written: the old credential is current, whole", async () => {
    await enrolled();
    const run = writer("pause-before-set");
    await run.waitFor(/^before-set$/);
    await kill(run.child);
    const store = await stored();
    expect(await store.current()).toEqual(testCredential(1));
    expect((await store.all()).map((c) => c.cekVersion)).toEqual([1n]);
  });

  it("after the new version is written, before the old one is deleted: both are there, the new one wins", async () => {
    await enrolled();
    const store = await stored();
    await store.save(testCredential(2));
    const run = writer("pause-after-set");
    await run.waitFor(/^after-set$/);
    await kill(run.child);
    const after = await stored();
    expect(await after.current()).toEqual(testCredential(3));
    expect((await after.all()).map((c) => c.cekVersion)).toEqual([3n, 2n, 1n]);
    // The next rotation tidies up to the retained two.
    await after.save(testCredential(4));
    expect((await after.all()).map((c) => c.cekVersion)).toEqual([4n, 3n]);
  });
});

describe("killed at random moments while rotating", () => {
  it("never loses the credential and never returns a torn one (12 kills)", async () => {
    await enrolled();
    let seed = 0x2545f491;
    const random = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    for (let round = 0; round < 12; round++) {
      const run = writer("loop");
      const saves = 1 + Math.floor(random() * 6);
      const before = run.lines.length;
      await run.waitFor(/^ready$/);
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (
            run.lines.filter((l) => l.startsWith("saved")).length >= saves ||
            run.child.exitCode !== null
          ) {
            clearInterval(check);
            resolve();
          }
        }, 1);
      });
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 4)));
      await kill(run.child);
      const saved = run.lines
        .slice(before)
        .filter((l) => l.startsWith("saved "))
        .map((l) => Number(l.slice(6)));
      const lastSaved = Math.max(...saved);
      const store = await stored();
      const current = await store.current();
      if (current === undefined) throw new Error(`round ${round}: no credential after the kill`);
      const version = Number(current.cekVersion);
      expect(version, `round ${round}`).toBeGreaterThanOrEqual(lastSaved);
      expect(version, `round ${round}`).toBeLessThanOrEqual(lastSaved + 1);
      expect(current, `round ${round}: whole`).toEqual(testCredential(version));
      const versions = (await store.all()).map((c) => Number(c.cekVersion));
      expect(versions[0]).toBe(version);
      for (const [i, v] of versions.entries()) expect(v).toBe(version - i);
    }
  }, 120_000);
});
