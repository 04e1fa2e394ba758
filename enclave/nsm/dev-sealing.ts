import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { bytesToHex, concatBytes, equalBytes, randomBytes } from "@noble/ciphers/utils.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { MAX_SEAL_PLAINTEXT_BYTES } from "./constants.js";
import type { SealContext } from "./nsm.js";
import { NsmError } from "./nsm-error.js";
import { encodeSealContext, sealContextKeys } from "./seal-context.js";

/** First byte of a dev-sealed blob: the format version. */
export const DEV_SEALED_FORMAT_VERSION = 0x01;

/** Length of a dev sealing key: a 256-bit XChaCha20-Poly1305 key. */
export const DEV_SEALING_KEY_LENGTH = 32;

/** Length of the key id in a sealed blob: enough to tell keys apart, too short to matter. */
const KEY_ID_LENGTH = 8;
/** XChaCha20's 24-byte nonce: random nonces are safe at any number of seals under one key. */
const NONCE_LENGTH = 24;
const TAG_LENGTH = 16;
const HEADER_LENGTH = 1 + KEY_ID_LENGTH;
const MIN_SEALED_LENGTH = HEADER_LENGTH + NONCE_LENGTH + TAG_LENGTH;

const encoder = new TextEncoder();
/** Domain label of the associated data, so a dev-sealed blob means nothing to any other AEAD use. */
const AAD_LABEL = encoder.encode("vettid-dev-sealed-v1\0");
const KEY_ID_LABEL = encoder.encode("vettid-dev-sealing-key-id\0");

/**
 * The dev NSM's sealing: XChaCha20-Poly1305 under a local key, standing in for KMS.
 *
 * Blob layout: `version (1) ‖ key id (8) ‖ nonce (24) ‖ ciphertext ‖ tag (16)`. The associated
 * data is `"vettid-dev-sealed-v1" 0x00 ‖ version ‖ key id ‖ canonical context`
 * ({@link encodeSealContext}), so a blob opens only under the context it was sealed with, and any
 * change to any byte fails.
 */
export interface DevSealer {
  /** First 8 bytes of SHA-256("vettid-dev-sealing-key-id" 0x00 ‖ key): which key this is. */
  readonly keyId: Uint8Array;
  /** Seals `plaintext` (at most {@link MAX_SEAL_PLAINTEXT_BYTES}) bound to `context`. */
  seal(plaintext: Uint8Array, context: SealContext): Uint8Array;
  /** Opens a blob sealed under the same key and context; throws `unseal_failed` otherwise. */
  unseal(sealed: Uint8Array, context: SealContext): Uint8Array;
}

/**
 * Makes a {@link DevSealer} over a 32-byte key. The key is copied; the caller may wipe its own.
 *
 * @throws NsmError `invalid_argument` when the key is not 32 bytes.
 */
export function createDevSealer(key: Uint8Array): DevSealer {
  if (!(key instanceof Uint8Array) || key.length !== DEV_SEALING_KEY_LENGTH) {
    throw new NsmError(
      "invalid_argument",
      `dev sealing key must be ${DEV_SEALING_KEY_LENGTH} bytes, got ${key instanceof Uint8Array ? key.length : typeof key}`,
    );
  }
  const ownKey = Uint8Array.from(key);
  const keyId = sha256(concatBytes(KEY_ID_LABEL, ownKey)).slice(0, KEY_ID_LENGTH);
  const header = concatBytes(Uint8Array.of(DEV_SEALED_FORMAT_VERSION), keyId);

  function aad(context: SealContext): Uint8Array {
    return concatBytes(AAD_LABEL, header, encodeSealContext(context));
  }

  return {
    keyId: keyId.slice(),

    seal(plaintext, context) {
      if (!(plaintext instanceof Uint8Array)) {
        throw new NsmError("invalid_argument", "seal plaintext must be a Uint8Array");
      }
      if (plaintext.length > MAX_SEAL_PLAINTEXT_BYTES) {
        throw new NsmError(
          "invalid_argument",
          `seal plaintext is ${plaintext.length} bytes; the limit is ${MAX_SEAL_PLAINTEXT_BYTES} (KMS Encrypt's)`,
        );
      }
      const associated = aad(context);
      const nonce = randomBytes(NONCE_LENGTH);
      const ciphertext = xchacha20poly1305(ownKey, nonce, associated).encrypt(plaintext);
      return concatBytes(header, nonce, ciphertext);
    },

    unseal(sealed, context) {
      if (!(sealed instanceof Uint8Array)) {
        throw new NsmError("invalid_argument", "sealed blob must be a Uint8Array");
      }
      const associated = aad(context);
      if (sealed.length < MIN_SEALED_LENGTH) {
        throw new NsmError(
          "unseal_failed",
          `sealed blob is ${sealed.length} bytes; a dev-sealed blob has at least ${MIN_SEALED_LENGTH}`,
        );
      }
      if (sealed[0] !== DEV_SEALED_FORMAT_VERSION) {
        throw new NsmError(
          "unseal_failed",
          `sealed blob starts with 0x${hexByte(sealed[0] ?? 0)}, not the dev format 0x${hexByte(DEV_SEALED_FORMAT_VERSION)}: it was not sealed by a dev NSM (a KMS ciphertext needs the Nitro adapter)`,
        );
      }
      const blobKeyId = sealed.subarray(1, HEADER_LENGTH);
      if (!equalBytes(blobKeyId, keyId)) {
        throw new NsmError(
          "unseal_failed",
          `sealed blob was sealed under dev sealing key ${bytesToHex(blobKeyId)}, but this NSM holds key ${bytesToHex(keyId)} (was the dev NSM's state directory reset or changed?)`,
        );
      }
      const nonce = sealed.subarray(HEADER_LENGTH, HEADER_LENGTH + NONCE_LENGTH);
      try {
        return xchacha20poly1305(ownKey, nonce, associated).decrypt(
          sealed.subarray(HEADER_LENGTH + NONCE_LENGTH),
        );
      } catch (cause) {
        throw new NsmError(
          "unseal_failed",
          `sealed blob does not open under the given context ${sealContextKeys(context)}: it was sealed under a different context, or altered`,
          { cause },
        );
      }
    },
  };
}

function hexByte(value: number): string {
  return value.toString(16).padStart(2, "0");
}
