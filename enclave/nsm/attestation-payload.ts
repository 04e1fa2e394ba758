import { encode } from "cbor2";
import { PCR_DIGEST } from "./constants.js";
import { plainBytes } from "./plain-bytes.js";

/** The fields of a Nitro attestation document's payload, before encoding. */
export interface AttestationPayloadFields {
  /** Issuing module id, for example `i-0123456789abcdef0-enc0123456789abcdef`. */
  readonly moduleId: string;
  /** When the document was made, in ms since the epoch (an unsigned integer). */
  readonly timestampMs: number;
  /** PCR index → 48-byte value, written in index order. */
  readonly pcrs: ReadonlyMap<number, Uint8Array>;
  /** The leaf certificate, DER. */
  readonly certificate: Uint8Array;
  /** The CA bundle, DER each, root first. */
  readonly cabundle: readonly Uint8Array[];
  /** Absent fields are written as CBOR null, as the NSM writes them. */
  readonly publicKey?: Uint8Array | undefined;
  readonly userData?: Uint8Array | undefined;
  readonly nonce?: Uint8Array | undefined;
}

/**
 * Encodes the payload map exactly as the Nitro NSM lays it out: text keys in AWS's order
 * (`module_id`, `digest`, `timestamp`, `pcrs`, `certificate`, `cabundle`, `public_key`,
 * `user_data`, `nonce`), `digest` "SHA384", `timestamp` an unsigned integer, `pcrs` a map of
 * unsigned integers to byte strings, certificates as byte strings, and null for an absent
 * optional field.
 */
export function encodeAttestationPayload(fields: AttestationPayloadFields): Uint8Array {
  if (!Number.isSafeInteger(fields.timestampMs) || fields.timestampMs < 0) {
    throw new RangeError(`timestampMs must be a non-negative integer, got ${fields.timestampMs}`);
  }
  const pcrs = new Map(
    [...fields.pcrs.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, value]) => [index, plainBytes(value)]),
  );
  return encode(
    new Map<string, unknown>([
      ["module_id", fields.moduleId],
      ["digest", PCR_DIGEST],
      ["timestamp", fields.timestampMs],
      ["pcrs", pcrs],
      ["certificate", plainBytes(fields.certificate)],
      ["cabundle", fields.cabundle.map(plainBytes)],
      ["public_key", optional(fields.publicKey)],
      ["user_data", optional(fields.userData)],
      ["nonce", optional(fields.nonce)],
    ]),
  );
}

function optional(value: Uint8Array | undefined): Uint8Array | null {
  return value === undefined ? null : plainBytes(value);
}
