import { type DecodeOptions, decode } from "cbor2";
import { VerificationFailure } from "../../../gen/vettid/attestation/v1/document_pb.js";
import { type Checked, errorMessage, failed, passed } from "./check-result.js";
import { MAX_CBOR_DEPTH } from "./constants.js";

/**
 * How the verifier decodes untrusted CBOR with cbor2:
 * - `ignoreGlobalTags`: tags come back as `Tag` objects, never converted (cbor2 would otherwise
 *   turn tag 64 into a `Uint8Array` that passes for a byte string, or tag 1 into a `Date`);
 * - duplicate map keys are refused, not resolved one way here and another way by some other
 *   parser: `rejectDuplicateKeys` compares keys' encodings, and {@link uniqueKeyMap} catches the
 *   same key written two ways (`"nonce"` with a one-byte and a two-byte length, `1` and `0x1801`);
 * - maps are `Map`s, so keys keep their types (text `"1"` and integer `1` stay apart);
 * - `rejectStreaming`: Nitro writes definite lengths only;
 * - `maxDepth`: {@link MAX_CBOR_DEPTH}.
 * Decoding also fails on truncated input and on bytes after the item.
 */
const DECODE_OPTIONS: DecodeOptions = {
  ignoreGlobalTags: true,
  rejectDuplicateKeys: true,
  createObject: uniqueKeyMap,
  rejectStreaming: true,
  maxDepth: MAX_CBOR_DEPTH,
};

/**
 * Decodes one CBOR item that must fill `bytes` exactly; byte strings in the result are views of
 * `bytes`. Fails `MALFORMED_CBOR`, naming `what`, on anything cbor2 refuses; never throws.
 */
export function decodeCbor(bytes: Uint8Array, what: string): Checked<unknown> {
  if (bytes.length === 0) return failed(VerificationFailure.MALFORMED_CBOR, `${what} is empty`);
  try {
    return passed(decode(bytes, DECODE_OPTIONS));
  } catch (error) {
    return failed(
      VerificationFailure.MALFORMED_CBOR,
      `${what} is not valid CBOR: ${errorMessage(error)}`,
    );
  }
}

/** cbor2's map builder: a `Map`, refusing keys that decode to the same value (a thrown error here
 * becomes a `MALFORMED_CBOR` failure in {@link decodeCbor}). */
function uniqueKeyMap(
  entries: readonly (readonly [unknown, unknown, ...unknown[]])[],
): Map<unknown, unknown> {
  const map = new Map<unknown, unknown>();
  for (const [key, value] of entries) {
    if (map.has(key)) throw new Error(`duplicate map key ${String(key)}`);
    map.set(key, value);
  }
  return map;
}
