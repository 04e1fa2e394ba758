import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readdir, readFile, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { checkStorageKey, type SecureStorage, STORAGE_KEY_PATTERN } from "./secure-storage.js";

/** Suffix of files being written; whatever has it is an unfinished write and is never read. */
const TEMP_SUFFIX = ".tmp";

/**
 * A {@link SecureStorage} in a directory, for Node (the `vettid` command, tests, servers that act
 * for a member). The directory is created (or narrowed) to mode 0700 and every file is 0600: only
 * the user can read them. It does not encrypt: on a laptop, put it on an encrypted disk; phones
 * use the Keychain or EncryptedSharedPreferences instead (see `secure-storage.ts`).
 *
 * Writes are atomic and durable: the value goes to a new temporary file (0600) that is flushed to
 * disk (fsync), then renamed over the key's file, then the directory is flushed. A crash leaves
 * either the old file or the new one; temporary files left by a crash are removed when the
 * storage is opened. One process at a time should own a directory.
 */
export async function createFileSecureStorage(directory: string): Promise<SecureStorage> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const info = await stat(directory);
  if (!info.isDirectory()) throw new Error(`${directory} is not a directory`);
  if ((info.mode & 0o077) !== 0) await chmod(directory, 0o700);
  for (const name of await readdir(directory)) {
    if (name.endsWith(TEMP_SUFFIX)) await unlink(join(directory, name)).catch(() => {});
  }

  const syncDirectory = async () => {
    const handle = await open(directory, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  };

  return {
    async get(key) {
      checkStorageKey(key);
      try {
        return new Uint8Array(await readFile(join(directory, key)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
    },
    async set(key, value) {
      checkStorageKey(key);
      if (key.endsWith(TEMP_SUFFIX))
        throw new TypeError(`storage keys may not end in ${TEMP_SUFFIX}`);
      if (!(value instanceof Uint8Array)) throw new TypeError("value must be a Uint8Array");
      const temp = join(directory, `${key}.${randomBytes(6).toString("hex")}${TEMP_SUFFIX}`);
      const handle = await open(temp, "wx", 0o600);
      try {
        await handle.writeFile(value);
        await handle.sync();
      } catch (error) {
        await handle.close();
        await unlink(temp).catch(() => {});
        throw error;
      }
      await handle.close();
      await rename(temp, join(directory, key));
      await syncDirectory();
    },
    async delete(key) {
      checkStorageKey(key);
      try {
        await unlink(join(directory, key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
        throw error;
      }
      await syncDirectory();
    },
    async keys(prefix = "") {
      const names = await readdir(directory);
      return names.filter(
        (name) =>
          STORAGE_KEY_PATTERN.test(name) && name.startsWith(prefix) && !name.endsWith(TEMP_SUFFIX),
      );
    },
  };
}
