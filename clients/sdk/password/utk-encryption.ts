import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";

/** HKDF info of a password hash encrypted to a UTK (credential.proto, "vettid-password-v1"). */
export const PASSWORD_ENCRYPTION_INFO = "vettid-password-v1";

/** Length of the ChaCha20-Poly1305 nonce (RFC 8439). */
export const PASSWORD_NONCE_BYTES = 12;

/** A password hash encrypted to a UTK: the fields PasswordAuthorization and PasswordSetup carry. */
export interface EncryptedPasswordHash {
  /** The app's fresh X25519 public key, 32 bytes. */
  readonly ephemeralPublicKey: Uint8Array;
  /** The 12-byte random nonce. */
  readonly nonce: Uint8Array;
  /** ChaCha20-Poly1305 ciphertext with the 16-byte tag appended (48 bytes for a 32-byte hash). */
  readonly ciphertext: Uint8Array;
}

const encoder = new TextEncoder();

/**
 * Steps 2–6 of "vettid-password-v1" (credential.proto), exactly:
 * 2. a fresh X25519 key pair (e_priv, e_pub), never reused;
 * 3. shared = X25519(e_priv, utk_public_key), refused when all zero (a low-order UTK);
 * 4. key = HKDF-SHA-256(ikm = shared, salt = e_pub || utk_public_key, info = "vettid-password-v1", 32);
 * 5. nonce = 12 random bytes; ciphertext = ChaCha20-Poly1305(key, nonce, hash, aad);
 * 6. e_priv, shared and key are wiped.
 * `aad` is the challenge id for a PasswordAuthorization and the UTK id for a PasswordSetup.
 *
 * @throws TypeError when the UTK is not a 32-byte key, the hash is empty, or the UTK is a
 *   low-order point.
 */
export function encryptPasswordHash(
  hash: Uint8Array,
  utkPublicKey: Uint8Array,
  aad: string,
): EncryptedPasswordHash {
  if (!(utkPublicKey instanceof Uint8Array) || utkPublicKey.length !== 32) {
    throw new TypeError("the UTK public key must be a raw 32-byte X25519 key");
  }
  if (!(hash instanceof Uint8Array) || hash.length === 0)
    throw new TypeError("the password hash is empty");
  if (typeof aad !== "string" || aad.length === 0)
    throw new TypeError("the aad (challenge or UTK id) is empty");
  const { secretKey, publicKey } = x25519.keygen();
  let shared: Uint8Array | undefined;
  let key: Uint8Array | undefined;
  try {
    try {
      shared = x25519.getSharedSecret(secretKey, utkPublicKey);
    } catch {
      throw new TypeError("the UTK public key is a low-order point: refusing to encrypt to it");
    }
    if (shared.every((byte) => byte === 0)) {
      throw new TypeError(
        "the UTK public key gives an all-zero shared secret: refusing to encrypt to it",
      );
    }
    const salt = new Uint8Array(64);
    salt.set(publicKey, 0);
    salt.set(utkPublicKey, 32);
    key = hkdf(sha256, shared, salt, encoder.encode(PASSWORD_ENCRYPTION_INFO), 32);
    const nonce = crypto.getRandomValues(new Uint8Array(PASSWORD_NONCE_BYTES));
    const ciphertext = chacha20poly1305(key, nonce, encoder.encode(aad)).encrypt(hash);
    return { ephemeralPublicKey: publicKey, nonce, ciphertext };
  } finally {
    secretKey.fill(0);
    shared?.fill(0);
    key?.fill(0);
  }
}
