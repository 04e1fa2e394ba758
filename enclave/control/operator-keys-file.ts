import { readFile } from "node:fs/promises";
import type { ControlCommand } from "../../gen/vettid/control/v1/command_pb.js";
import type { OperatorKey } from "./control-verifier.js";

/**
 * Reads the pinned operator keys: JSON `{ "keys": [{ "keyId": "ops-1", "publicKey": "<base64, 32
 * bytes>", "actions": ["evictVault", …] }] }` (`actions` optional: all). A missing file means no
 * operator may command this enclave.
 *
 * @throws Error naming the entry that is malformed.
 */
export async function readOperatorKeys(
  path: string | undefined,
): Promise<Map<string, OperatorKey>> {
  const keys = new Map<string, OperatorKey>();
  if (path === undefined) return keys;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new Error(`operator keys file ${path}: ${String(error)}`);
  }
  const list = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(list)) throw new Error(`operator keys file ${path}: "keys" must be an array`);
  list.forEach((entry: { keyId?: unknown; publicKey?: unknown; actions?: unknown }, index) => {
    const publicKey =
      typeof entry.publicKey === "string" ? Buffer.from(entry.publicKey, "base64") : undefined;
    if (typeof entry.keyId !== "string" || entry.keyId === "" || publicKey?.length !== 32) {
      throw new Error(
        `operator keys file ${path}: keys[${index}] needs a keyId and a 32-byte base64 publicKey`,
      );
    }
    keys.set(entry.keyId, {
      publicKey: new Uint8Array(publicKey),
      ...(Array.isArray(entry.actions)
        ? { actions: entry.actions as NonNullable<ControlCommand["action"]["case"]>[] }
        : {}),
    });
  });
  return keys;
}
