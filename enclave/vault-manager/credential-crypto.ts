/**
 * The credential's cryptography inside the vault: the Protean Credential encrypted to the CEK, and
 * password hashes the app encrypted to a UTK ("vettid-password-v1", `credential.proto`).
 */
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { equalBytes } from "@noble/ciphers/utils.js";
import { x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { hpkeSuite } from "../../rpc/sealing/hpke-suite.js";

const encoder = new TextEncoder();

/** HPKE info of the credential blob. */
export const CREDENTIAL_INFO_LABEL = "vettid-credential-v1";
/** HKDF info of a password hash encrypted to a UTK. */
export const PASSWORD_INFO_LABEL = "vettid-password-v1";
const ENC_BYTES = 32;

/** An X25519 key pair, raw 32-byte halves. */
export interface X25519KeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array;
}

/** A fresh X25519 key pair (CEK, UTK/LTK). */
export function generateX25519KeyPair(): X25519KeyPair {
  const { secretKey, publicKey } = x25519.keygen();
  return { publicKey, privateKey: secretKey };
}

/** Encrypts credential contents to a CEK: enc (32) || HPKE ciphertext, aad = UTF-8 key id. */
export async function encryptToCek(
  contents: Uint8Array,
  cekPublicKey: Uint8Array,
  cekKeyId: string,
): Promise<Uint8Array> {
  const sender = await hpkeSuite.createSenderContext({
    recipientPublicKey: await hpkeSuite.kem.deserializePublicKey(cekPublicKey),
    info: encoder.encode(CREDENTIAL_INFO_LABEL),
  });
  const ciphertext = new Uint8Array(await sender.seal(contents, encoder.encode(cekKeyId)));
  const out = new Uint8Array(ENC_BYTES + ciphertext.length);
  out.set(new Uint8Array(sender.enc), 0);
  out.set(ciphertext, ENC_BYTES);
  return out;
}

/** Opens {@link encryptToCek}'s output; `undefined` when it does not open under this CEK. */
export async function decryptWithCek(
  blob: Uint8Array,
  cek: X25519KeyPair,
  cekKeyId: string,
): Promise<Uint8Array | undefined> {
  if (blob.length <= ENC_BYTES) return undefined;
  try {
    const recipient = await hpkeSuite.createRecipientContext({
      recipientKey: await hpkeSuite.kem.deserializePrivateKey(cek.privateKey),
      enc: blob.slice(0, ENC_BYTES),
      info: encoder.encode(CREDENTIAL_INFO_LABEL),
    });
    return new Uint8Array(await recipient.open(blob.slice(ENC_BYTES), encoder.encode(cekKeyId)));
  } catch {
    return undefined;
  }
}

/** What the app sent to prove the password: `PasswordAuthorization` / `PasswordSetup` fields. */
export interface EncryptedPasswordHash {
  readonly ephemeralPublicKey: Uint8Array;
  readonly nonce: Uint8Array;
  readonly ciphertext: Uint8Array;
  /** UTF-8 challenge id (authorization) or utk id (setup). */
  readonly aad: string;
}

/**
 * Decrypts a password hash encrypted to a UTK with its LTK; `undefined` when it does not open
 * (wrong key, altered, malformed).
 */
export function decryptPasswordHash(
  encrypted: EncryptedPasswordHash,
  utk: X25519KeyPair,
): Uint8Array | undefined {
  if (encrypted.ephemeralPublicKey.length !== 32 || encrypted.nonce.length !== 12) return undefined;
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(utk.privateKey, encrypted.ephemeralPublicKey);
  } catch {
    return undefined;
  }
  if (shared.every((byte) => byte === 0)) return undefined;
  const salt = new Uint8Array(64);
  salt.set(encrypted.ephemeralPublicKey, 0);
  salt.set(utk.publicKey, 32);
  const key = hkdf(sha256, shared, salt, encoder.encode(PASSWORD_INFO_LABEL), 32);
  try {
    return chacha20poly1305(key, encrypted.nonce, encoder.encode(encrypted.aad)).decrypt(
      encrypted.ciphertext,
    );
  } catch {
    return undefined;
  } finally {
    key.fill(0);
    shared.fill(0);
  }
}

/** Constant-time comparison of two password hashes. */
export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && equalBytes(a, b);
}
