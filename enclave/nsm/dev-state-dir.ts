import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type DevRoot, devRootFromPem, devRootToPem } from "./dev-root.js";
import { DEV_SEALING_KEY_LENGTH } from "./dev-sealing.js";
import { NsmError } from "./nsm-error.js";

/** The dev root's certificate and private key, PEM, mode 0600. */
export const DEV_ROOT_FILE = "dev-root.pem";

/** The dev root's certificate alone, PEM, mode 0644: the file clients are given to pin. */
export const DEV_ROOT_CERTIFICATE_FILE = "dev-root.cert.pem";

/** The dev sealing key: 32 raw bytes, mode 0600. */
export const DEV_SEALING_KEY_FILE = "dev-sealing.key";

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g;

/**
 * Loads the dev root saved in `dir`, or makes one with `create` and saves it. Creation is atomic
 * and first-writer-wins, so processes that start together on one directory end up with one root.
 * The certificate alone is (re)written to {@link DEV_ROOT_CERTIFICATE_FILE} for clients.
 *
 * @throws NsmError `state_invalid` when the directory cannot be used or holds a broken root.
 */
export async function loadOrCreateDevRoot(
  dir: string,
  create: () => Promise<DevRoot>,
): Promise<DevRoot> {
  const path = join(dir, DEV_ROOT_FILE);
  let text = await readIfPresent(path);
  if (text === undefined) {
    const pem = devRootToPem(await create());
    text = await createOnce(dir, DEV_ROOT_FILE, `${pem.certificatePem}${pem.privateKeyPem}`);
  }
  const blocks = new Map<string, string>();
  for (const match of text.toString("utf8").matchAll(PEM_BLOCK)) {
    blocks.set(match[1] ?? "", `${match[0]}\n`);
  }
  const certificatePem = blocks.get("CERTIFICATE");
  const privateKeyPem = blocks.get("PRIVATE KEY");
  if (certificatePem === undefined || privateKeyPem === undefined) {
    throw new NsmError(
      "state_invalid",
      `${path} must hold a CERTIFICATE and a PRIVATE KEY PEM block; delete it to make a new dev root`,
    );
  }
  const root = await devRootFromPem({ certificatePem, privateKeyPem });
  await replace(dir, DEV_ROOT_CERTIFICATE_FILE, certificatePem, 0o644);
  return root;
}

/**
 * Loads the dev sealing key saved in `dir`, or makes a random one and saves it (atomically,
 * first writer wins).
 *
 * @throws NsmError `state_invalid` when the directory cannot be used or the key file is not 32 bytes.
 */
export async function loadOrCreateDevSealingKey(dir: string): Promise<Uint8Array> {
  const path = join(dir, DEV_SEALING_KEY_FILE);
  const key =
    (await readIfPresent(path)) ??
    (await createOnce(dir, DEV_SEALING_KEY_FILE, randomBytes(DEV_SEALING_KEY_LENGTH)));
  if (key.length !== DEV_SEALING_KEY_LENGTH) {
    throw new NsmError(
      "state_invalid",
      `${path} holds ${key.length} bytes, not a ${DEV_SEALING_KEY_LENGTH}-byte dev sealing key`,
    );
  }
  return new Uint8Array(key);
}

async function readIfPresent(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new NsmError("state_invalid", `cannot read dev NSM state file ${path}`, { cause });
  }
}

/**
 * Writes `data` to `dir/name` only if no such file exists yet, and returns what the file holds
 * afterwards (another process's content when it was first). The data goes to a private temporary
 * file that is then hard-linked into place: a reader never sees a half-written file.
 */
async function createOnce(dir: string, name: string, data: string | Buffer): Promise<Buffer> {
  const path = join(dir, name);
  const temporary = temporaryPath(dir, name);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(temporary, data, { mode: 0o600, flag: "wx" });
    try {
      await link(temporary, path);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== "EEXIST") throw cause;
    }
    return await readFile(path);
  } catch (cause) {
    throw new NsmError("state_invalid", `cannot create dev NSM state file ${path}`, { cause });
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

/** Replaces `dir/name` atomically (temporary file, then rename). */
async function replace(dir: string, name: string, data: string, mode: number): Promise<void> {
  const path = join(dir, name);
  const temporary = temporaryPath(dir, name);
  try {
    await writeFile(temporary, data, { mode, flag: "wx" });
    await rename(temporary, path);
  } catch (cause) {
    await unlink(temporary).catch(() => undefined);
    throw new NsmError("state_invalid", `cannot write dev NSM state file ${path}`, { cause });
  }
}

function temporaryPath(dir: string, name: string): string {
  return join(dir, `.${name}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
}
