import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { ed25519 } from "@noble/curves/ed25519.js";

/**
 * An operator's Ed25519 control key, as the signing code holds it. The secret never leaves this
 * object except to sign: it is not printed, logged or serialised by anything in the SDK.
 */
export interface ControlKey {
  /** The key id receivers have pinned this key under (`SignedControlCommand.key_id`). */
  readonly keyId: string;
  /** Raw 32-byte Ed25519 public key (RFC 8032): what receivers pin. */
  readonly publicKey: Uint8Array;
  /** Signs `message` (Ed25519, RFC 8032). */
  sign(message: Uint8Array): Uint8Array;
}

/** Key ids are short names operators type and receivers configure: 1–64 of [A-Za-z0-9._-]. */
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * A control key from a 32-byte Ed25519 secret key (seed). The seed is copied; wipe yours.
 *
 * @throws TypeError when the key id or the seed is malformed.
 */
export function controlKeyFromSeed(keyId: string, seed: Uint8Array): ControlKey {
  if (typeof keyId !== "string" || !KEY_ID.test(keyId)) {
    throw new TypeError("key id must be 1 to 64 characters of [A-Za-z0-9._-]");
  }
  if (!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw new TypeError("an Ed25519 secret key is 32 bytes");
  }
  const secret = seed.slice();
  const publicKey = ed25519.getPublicKey(secret);
  return {
    keyId,
    publicKey,
    sign: (message) => ed25519.sign(message, secret),
  };
}

/**
 * Reads a control key from a PEM file: an Ed25519 private key in PKCS#8 (`-----BEGIN PRIVATE
 * KEY-----`), as `openssl genpkey -algorithm ed25519` and {@link generateControlKeyPem} write it.
 * Refuses a file that others can read (mode bits beyond 0600), like ssh does, unless
 * `allowOpenPermissions`.
 *
 * @throws Error naming the file when it cannot be read or is not an Ed25519 private key.
 */
export async function loadControlKey(
  path: string,
  keyId: string,
  options: { readonly allowOpenPermissions?: boolean } = {},
): Promise<ControlKey> {
  const info = await stat(path);
  if (!options.allowOpenPermissions && process.platform !== "win32" && (info.mode & 0o077) !== 0) {
    throw new Error(
      `control key ${path} is readable by others (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`,
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(await readFile(path));
  } catch {
    throw new Error(`control key ${path} is not a PEM private key`);
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new Error(
      `control key ${path} is ${key.asymmetricKeyType ?? "not asymmetric"}, not Ed25519`,
    );
  }
  const jwk = key.export({ format: "jwk" });
  if (typeof jwk.d !== "string") throw new Error(`control key ${path} has no private part`);
  const seed = new Uint8Array(Buffer.from(jwk.d, "base64url"));
  try {
    return controlKeyFromSeed(keyId, seed);
  } finally {
    seed.fill(0);
  }
}

/**
 * A new Ed25519 control key as PKCS#8 PEM (for the key file, mode 0600) and its raw public key
 * (for the receivers' pinned key set).
 */
export function generateControlKeyPem(): { pem: string; publicKey: Uint8Array } {
  const seed = ed25519.utils.randomSecretKey();
  try {
    // PKCS#8 for Ed25519 (RFC 8410): a fixed 16-byte prefix, then the 32-byte seed.
    const der = Buffer.concat([
      Buffer.from("302e020100300506032b657004220420", "hex"),
      Buffer.from(seed),
    ]);
    const key = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    const publicDer = createPublicKey(key).export({ format: "der", type: "spki" });
    der.fill(0);
    return {
      pem: key.export({ format: "pem", type: "pkcs8" }).toString(),
      publicKey: new Uint8Array(publicDer.subarray(publicDer.length - 32)),
    };
  } finally {
    seed.fill(0);
  }
}
