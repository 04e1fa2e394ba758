import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { keyIdOfSpki, p256PointFromSpki, verifyP256Der } from "../../clients/sdk/voting/index.js";
import type { OrgSigner, SignerKey } from "./org-signer.js";

/** A local signer, and its private key for keeping across restarts (development only). */
export interface LocalP256Signer extends OrgSigner {
  /** The private key as PKCS#8 DER. Development only: never log or ship it. */
  exportPkcs8(): Uint8Array;
}

/**
 * A P-256 signer with the key in this process: the development and test stand-in for the KMS key
 * (same interface, same output: DER signatures that OpenSSL, like KMS, does not low-S normalise).
 * Without `pkcs8` a new key is made.
 *
 * @throws TypeError when `pkcs8` is not a P-256 private key.
 */
export function createLocalP256Signer(
  options: { readonly pkcs8?: Uint8Array } = {},
): LocalP256Signer {
  let privateKey: KeyObject;
  if (options.pkcs8 === undefined) {
    privateKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  } else {
    try {
      privateKey = createPrivateKey({
        key: Buffer.from(options.pkcs8),
        format: "der",
        type: "pkcs8",
      });
    } catch {
      throw new TypeError("pkcs8 is not a PKCS#8 private key");
    }
    if (
      privateKey.asymmetricKeyType !== "ec" ||
      privateKey.asymmetricKeyDetails?.namedCurve !== "prime256v1"
    ) {
      throw new TypeError("pkcs8 is not a P-256 private key");
    }
  }
  const spki = new Uint8Array(createPublicKey(privateKey).export({ format: "der", type: "spki" }));
  const parsed = p256PointFromSpki(spki);
  if (!parsed.ok) throw new TypeError(`local key: ${parsed.problem}`);
  const key: SignerKey = { keyId: keyIdOfSpki(spki), spki };
  return {
    async describe() {
      return key;
    },
    async signMessage(message) {
      const signature = new Uint8Array(
        sign("sha256", message, { key: privateKey, dsaEncoding: "der" }),
      );
      if (!verifyP256Der(signature, message, parsed.point)) {
        throw new Error("local signer produced a signature that does not verify");
      }
      return signature;
    },
    exportPkcs8() {
      return new Uint8Array(privateKey.export({ format: "der", type: "pkcs8" }));
    },
  };
}

/**
 * The local signer whose key is kept in `path` (PKCS#8 DER, mode 0600), created on first use:
 * for the local stack, so that pinned key ids survive restarts. Development only.
 */
export async function loadOrCreateLocalP256Signer(path: string): Promise<LocalP256Signer> {
  try {
    return createLocalP256Signer({ pkcs8: new Uint8Array(await readFile(path)) });
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
  }
  const signer = createLocalP256Signer();
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    await writeFile(path, signer.exportPkcs8(), { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as { code?: string }).code === "EEXIST") return loadOrCreateLocalP256Signer(path);
    throw error;
  }
  await chmod(path, 0o600);
  return signer;
}
