import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { expand, extract } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";

const KEY_LENGTH = 32;
const NONCE_LENGTH = 12;
const encoder = new TextEncoder();

/**
 * The response direction of a sealed call, as RFC 9458 §4.4 derives it: a secret exported from
 * the request's HPKE context, salted with `enc || response_nonce`, expanded into an AEAD key and
 * base nonce. Streams number their frames: frame i uses `nonce XOR i`, as HPKE does for requests.
 */
export class ResponseCipher {
  private readonly key: Uint8Array;
  private readonly baseNonce: Uint8Array;

  constructor(exportedSecret: Uint8Array, enc: Uint8Array, responseNonce: Uint8Array) {
    const salt = new Uint8Array(enc.length + responseNonce.length);
    salt.set(enc);
    salt.set(responseNonce, enc.length);
    const prk = extract(sha256, exportedSecret, salt);
    this.key = expand(sha256, prk, encoder.encode("key"), KEY_LENGTH);
    this.baseNonce = expand(sha256, prk, encoder.encode("nonce"), NONCE_LENGTH);
  }

  seal(seq: number, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
    return chacha20poly1305(this.key, this.nonce(seq), aad).encrypt(plaintext);
  }

  /** Throws when the ciphertext was altered, reordered or sealed under another key. */
  open(seq: number, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array {
    return chacha20poly1305(this.key, this.nonce(seq), aad).decrypt(ciphertext);
  }

  private nonce(seq: number): Uint8Array {
    const nonce = this.baseNonce.slice();
    // XOR the big-endian sequence number into the last bytes (RFC 9180 §5.2 ComputeNonce).
    let value = seq;
    for (let i = NONCE_LENGTH - 1; i >= 0 && value > 0; i--) {
      nonce[i] = (nonce[i] ?? 0) ^ (value & 0xff);
      value = Math.floor(value / 256);
    }
    return nonce;
  }
}
