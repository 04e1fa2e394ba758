/**
 * A plain `Uint8Array` over the same bytes (no copy). cbor2 writes exactly `Uint8Array` as a CBOR
 * byte string; a subclass such as Node's `Buffer` would be written as something else (its JSON
 * form), so every byte string handed to the encoder passes through here.
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
