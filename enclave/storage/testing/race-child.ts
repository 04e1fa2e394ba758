/**
 * Test-only child process: writes to a filesystem blob store (in the directory given as first
 * argument, keeping as many generations as the optional second argument says) on command, racing the test process
 * and other children. Prints `ready`, then answers each JSON line on stdin with one JSON line:
 * - `{"op":"race","key","version","count","tag"}`: `count` concurrent `if_version_matches` puts
 *   on `version`, each of bytes `<tag>/<index>`; answers `{"outcomes":[{outcome,version?}…]}`.
 * - `{"op":"increment","key","times"}`: adds 1 to the decimal counter stored under `key`, `times`
 *   times, each as a read-modify-write retried on conflict; answers `{"conflicts":n}`.
 */
import { createInterface } from "node:readline";
import { createFilesystemBlobStore } from "../filesystem-blob-store.js";

type Command =
  | { op: "race"; key: string; version: string; count: number; tag: string }
  | { op: "increment"; key: string; times: number };

const [directory, retained] = process.argv.slice(2);
if (directory === undefined) throw new Error("usage: race-child.ts <directory> [retained]");
const store = createFilesystemBlobStore({
  directory,
  retainedGenerations: retained === undefined ? undefined : Number(retained),
});
const encoder = new TextEncoder();

async function handle(command: Command): Promise<unknown> {
  if (command.op === "race") {
    const results = await Promise.all(
      Array.from({ length: command.count }, (_, index) =>
        store.put(command.key, encoder.encode(`${command.tag}/${index}`), {
          mode: "if_version_matches",
          version: command.version,
        }),
      ),
    );
    return { outcomes: results };
  }
  let conflicts = 0;
  for (let done = 0; done < command.times; ) {
    const got = await store.get(command.key);
    if (got.outcome !== "ok") throw new Error(`counter ${command.key} is missing`);
    const next = encoder.encode(String(Number(new TextDecoder().decode(got.data)) + 1));
    const put = await store.put(command.key, next, {
      mode: "if_version_matches",
      version: got.version,
    });
    if (put.outcome === "ok") done++;
    else conflicts++;
  }
  return { conflicts };
}

process.stdout.write("ready\n");
for await (const line of createInterface({ input: process.stdin })) {
  process.stdout.write(`${JSON.stringify(await handle(JSON.parse(line) as Command))}\n`);
}
