/**
 * The symmetric keys of a vault and the authenticated encryption of its record and database.
 *
 * - record key = HKDF-SHA-256(material, salt = owner_guid, info = "vettid-vault-record-v1"): opens
 *   the attempt counter and lifecycle without the PIN.
 * - DEK = HKDF-SHA-256(material, salt = owner_guid, info = "vettid-vault-dek-v1" || 0x00 || PIN):
 *   opens the database. The PIN alone is six digits; it is the material, which only an attested
 *   enclave can unseal, that makes the DEK unguessable outside the enclave.
 *
 * AES-256-GCM from node:crypto (OpenSSL; hardware AES) with a random 12-byte nonce: a vault writes
 * far fewer than 2^32 times under one key, the bound for random GCM nonces.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";

const encoder = new TextEncoder();
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Length of the per-vault material and of every derived key. */
export const VAULT_KEY_BYTES = 32;

/** Info label of the record key. */
export const RECORD_KEY_LABEL = "vettid-vault-record-v1";
/** Info label of the DEK (followed by 0x00 and the PIN). */
export const DEK_LABEL = "vettid-vault-dek-v1";
/** Associated-data label of the database image. */
export const DATABASE_AAD_LABEL = "vettid-vault-db-v1";

/** The record key of a vault. */
export function deriveRecordKey(material: Uint8Array, ownerGuid: string): Uint8Array {
  return hkdf(
    sha256,
    material,
    encoder.encode(ownerGuid),
    encoder.encode(RECORD_KEY_LABEL),
    VAULT_KEY_BYTES,
  );
}

/** The DEK of a vault for a PIN. */
export function deriveDek(material: Uint8Array, ownerGuid: string, pin: string): Uint8Array {
  return hkdf(
    sha256,
    material,
    encoder.encode(ownerGuid),
    encoder.encode(`${DEK_LABEL}\0${pin}`),
    VAULT_KEY_BYTES,
  );
}

/** `label || 0x00 || owner_guid || 0x00 || counter (8 bytes, big-endian)`. */
export function boundAad(label: string, ownerGuid: string, counter: bigint): Uint8Array {
  const prefix = encoder.encode(`${label}\0${ownerGuid}\0`);
  const aad = new Uint8Array(prefix.length + 8);
  aad.set(prefix);
  new DataView(aad.buffer).setBigUint64(prefix.length, counter);
  return aad;
}

/** AES-256-GCM: nonce (12) || ciphertext || tag (16). */
export function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const final = cipher.final();
  const out = new Uint8Array(NONCE_BYTES + body.length + final.length + TAG_BYTES);
  out.set(nonce, 0);
  out.set(body, NONCE_BYTES);
  out.set(final, NONCE_BYTES + body.length);
  out.set(cipher.getAuthTag(), out.length - TAG_BYTES);
  return out;
}

/** Opens {@link seal}'s output; `undefined` when it was altered or the key or aad differ. */
export function open(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, NONCE_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const head = decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES));
    const tail = decipher.final();
    return tail.length === 0 ? new Uint8Array(head) : new Uint8Array(Buffer.concat([head, tail]));
  } catch {
    return undefined;
  }
}
