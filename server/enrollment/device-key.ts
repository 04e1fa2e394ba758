import { p256 } from "@noble/curves/nist.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { invalidArgument } from "./request-fields.js";

/** Length of a device public key: a SEC1 uncompressed P-256 point, 0x04 || X || Y. */
export const DEVICE_PUBLIC_KEY_LENGTH = 65;

/** Domain label of the platform-attestation challenge (device.proto, "vettid-device-v1"). */
export const DEVICE_KEY_CHALLENGE_LABEL = "vettid-device-v1";

/**
 * Checks a device public key: 65 bytes, uncompressed, a point on P-256 (not the identity).
 * `invalid_argument` naming the field otherwise.
 */
export function requireDevicePublicKey(field: string, key: Uint8Array): Uint8Array {
  if (key.byteLength === 0) throw invalidArgument(`${field} is required`);
  if (key.byteLength !== DEVICE_PUBLIC_KEY_LENGTH || key[0] !== 0x04) {
    throw invalidArgument(
      `${field} must be an uncompressed P-256 point (65 bytes starting with 0x04), got ${key.byteLength} bytes`,
    );
  }
  try {
    p256.Point.fromBytes(key).assertValidity();
  } catch {
    throw invalidArgument(`${field} is not a point on P-256`);
  }
  return key;
}

/**
 * The challenge a platform attestation must commit to (device.proto):
 * SHA-256(UTF-8 "vettid-device-v1" || 0x00 || device_public_key). Production verifiers check the
 * token's `requestHash` / `nonce` (Play Integrity) or `clientDataHash` (App Attest) against it, so
 * a token cannot be moved to another key.
 */
export function deviceKeyChallenge(devicePublicKey: Uint8Array): Uint8Array {
  const label = new TextEncoder().encode(DEVICE_KEY_CHALLENGE_LABEL);
  const message = new Uint8Array(label.length + 1 + devicePublicKey.length);
  message.set(label, 0);
  message.set(devicePublicKey, label.length + 1);
  return sha256(message);
}
