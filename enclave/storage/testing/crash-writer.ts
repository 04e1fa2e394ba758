/**
 * Test-only child process for the crash test: writes {@link crashBlob} objects to a filesystem
 * blob store in an endless loop, until it is killed. Before each operation it appends
 * `begin <key> <put|delete> <sequence>` to its log, and `ack <outcome>` once the operation has
 * resolved, with synchronous writes, so the log on disk tells exactly what was acknowledged and
 * what was in flight when the kill came. Prints `ready` once it is going.
 *
 * Usage: crash-writer.ts <store directory> <log file> <first sequence number> <keys>
 */
import { openSync, writeSync } from "node:fs";
import { createFilesystemBlobStore } from "../filesystem-blob-store.js";
import { crashBlob } from "./crash-blobs.js";

const [directory, logPath, first, keyCount] = process.argv.slice(2);
if (directory === undefined || logPath === undefined || first === undefined) {
  throw new Error("usage: crash-writer.ts <directory> <log> <first sequence> <keys>");
}
const store = createFilesystemBlobStore({ directory });
const log = openSync(logPath, "a");
const keys = Array.from({ length: Number(keyCount ?? 3) }, (_, index) => `crash/object-${index}`);

process.stdout.write("ready\n");
for (let sequence = Number(first); ; sequence++) {
  const key = keys[sequence % keys.length] ?? "crash/object-0";
  const step = sequence % 10;
  const current = await store.get(key);
  if (step === 8 || (step === 4 && current.outcome === "ok")) {
    // Unconditional, or conditional on the version just read.
    writeSync(log, `begin ${key} delete ${sequence}\n`);
    const expected = step === 4 && current.outcome === "ok" ? current.version : undefined;
    const result = await store.delete(key, expected);
    writeSync(log, `ack ${result.outcome}\n`);
    continue;
  }
  const data = crashBlob(sequence);
  writeSync(log, `begin ${key} put ${sequence}\n`);
  const result =
    step === 7
      ? await store.put(key, data, { mode: "overwrite" })
      : current.outcome === "ok"
        ? await store.put(key, data, { mode: "if_version_matches", version: current.version })
        : await store.put(key, data, { mode: "create_only" });
  writeSync(log, `ack ${result.outcome}\n`);
}
