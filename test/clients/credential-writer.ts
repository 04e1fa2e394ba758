/**
 * Child process for the crash tests: stores rotated credentials in a file storage directory and
 * reports each step on stdout, so the parent can kill it (SIGKILL) at a known point or at random.
 *
 *   node --import tsx credential-writer.ts DIR loop            save versions forever: "saved N"
 *   node --import tsx credential-writer.ts DIR pause-before-set  one save, stop before the write
 *   node --import tsx credential-writer.ts DIR pause-after-set   one save, stop after the write,
 *                                                             before the old version is deleted
 */
import {
  createCredentialStore,
  createFileSecureStorage,
  type SecureStorage,
} from "../../clients/sdk/storage/index.js";
import { testCredential } from "./test-credential.js";

const [directory, mode] = process.argv.slice(2);
if (directory === undefined || mode === undefined) throw new Error("usage: DIR MODE");

const files = await createFileSecureStorage(directory);
const hang = (line: string) =>
  new Promise<never>(() => {
    process.stdout.write(`${line}\n`);
  });
const storage: SecureStorage =
  mode === "loop"
    ? files
    : {
        ...files,
        async set(key, value) {
          if (mode === "pause-before-set") await hang("before-set");
          return files.set(key, value);
        },
        async delete(key) {
          if (mode === "pause-after-set") await hang("after-set");
          return files.delete(key);
        },
      };
const store = createCredentialStore(storage);
let version = Number((await store.current())?.cekVersion ?? 0n);
process.stdout.write("ready\n");
do {
  version += 1;
  await store.save(testCredential(version));
  process.stdout.write(`saved ${version}\n`);
} while (mode === "loop");
