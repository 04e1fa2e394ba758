/**
 * A plain `Uint8Array` over the same bytes (no copy). cbor2 writes exactly `Uint8Array` as a CBOR
 * byte string; a subclass such as Node's `Buffer` would be written as something else, so every
 * byte string handed to the encoder passes through here.
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Whether every byte is zero (true for an empty array). */
export function isAllZero(bytes: Uint8Array): boolean {
  return bytes.every((byte) => byte === 0);
}
