import { VerificationFailure } from "../../../gen/vettid/attestation/v1/document_pb.js";
import { decodeCbor } from "./cbor.js";
import { type Checked, failed, passed } from "./check-result.js";
import {
  MAX_ATTESTATION_FIELD_BYTES,
  MAX_CABUNDLE_LENGTH,
  MAX_CERTIFICATE_BYTES,
  MAX_PAYLOAD_BYTES,
  MAX_PCR_COUNT,
  MAX_PCR_INDEX,
  PCR_DIGEST,
  PCR_LENGTH,
} from "./constants.js";

/**
 * A Nitro attestation payload that passed the format checks. Byte strings are views of the
 * document's bytes; nothing in it is authenticated until the chain and signature are verified.
 */
export interface AttestationPayload {
  readonly moduleId: string;
  /** When the NSM made the document, in ms since the epoch. */
  readonly timestampMs: number;
  /** Always {@link PCR_DIGEST}. */
  readonly digest: string;
  /** PCR index (0–31) → {@link PCR_LENGTH} bytes, in document order. */
  readonly pcrs: ReadonlyMap<number, Uint8Array>;
  /** The leaf certificate, DER. */
  readonly certificate: Uint8Array;
  /** The CA bundle, DER each, root first. */
  readonly cabundle: readonly Uint8Array[];
  /** Absent when the document carries CBOR null or omits the field. */
  readonly publicKey: Uint8Array | undefined;
  readonly userData: Uint8Array | undefined;
  readonly nonce: Uint8Array | undefined;
}

/** The payload's fields after the type checks, before the size and value checks. */
interface TypedFields extends Omit<AttestationPayload, "pcrs"> {
  readonly pcrs: ReadonlyMap<number | bigint, Uint8Array>;
}

/**
 * Decodes a payload and checks it against AWS's format (attestation_process.md §2.2, §3.2.2), in
 * the order of the `VerificationFailure` values: `MALFORMED_CBOR`; `MISSING_FIELD` (a mandatory
 * field absent or of the wrong CBOR type, an optional one neither a byte string nor null);
 * `FIELD_TOO_LARGE`; `DIGEST`; `PCR_SIZE`. The payload's own size is checked first, before it is
 * decoded. Unknown keys are ignored, as AWS may add fields. Never throws.
 */
export function parseAttestationPayload(payload: Uint8Array): Checked<AttestationPayload> {
  if (payload.length > MAX_PAYLOAD_BYTES) {
    return tooLarge(`payload is ${payload.length} bytes; the format allows ${MAX_PAYLOAD_BYTES}`);
  }
  const decoded = decodeCbor(payload, "payload");
  if (!decoded.ok) return decoded;
  const typed = checkTypes(decoded.value);
  if (!typed.ok) return typed;
  const fields = typed.value;

  const sized = checkSizes(fields);
  if (!sized.ok) return sized;
  if (fields.digest !== PCR_DIGEST) {
    return failed(
      VerificationFailure.DIGEST,
      `digest is ${JSON.stringify(fields.digest)}, not "${PCR_DIGEST}"`,
    );
  }
  const pcrs = new Map<number, Uint8Array>();
  for (const [index, value] of fields.pcrs) {
    if (typeof index !== "number" || index < 0 || index > MAX_PCR_INDEX) {
      return failed(
        VerificationFailure.PCR_SIZE,
        `PCR index ${String(index)} is outside 0–${MAX_PCR_INDEX}`,
      );
    }
    if (value.length !== PCR_LENGTH) {
      return failed(
        VerificationFailure.PCR_SIZE,
        `PCR${index} is ${value.length} bytes; ${PCR_DIGEST} PCRs are ${PCR_LENGTH}`,
      );
    }
    pcrs.set(index, value);
  }
  return passed({ ...fields, pcrs });
}

function checkTypes(value: unknown): Checked<TypedFields> {
  if (!(value instanceof Map)) return missing("payload is not a map");
  const moduleId = value.get("module_id");
  if (typeof moduleId !== "string" || moduleId.length === 0) {
    return missing("module_id is absent, not text, or empty");
  }
  const digest = value.get("digest");
  if (typeof digest !== "string") return missing("digest is absent or not text");
  const timestamp = value.get("timestamp");
  if (typeof timestamp !== "number" || !Number.isSafeInteger(timestamp) || timestamp <= 0) {
    // A bigint is an integer beyond 2^53 ms: some 285,000 years from now, so not a timestamp.
    return missing("timestamp is absent or not a positive integer of milliseconds");
  }
  const pcrs = value.get("pcrs");
  if (!(pcrs instanceof Map) || pcrs.size === 0)
    return missing("pcrs is absent, not a map, or empty");
  for (const [index, pcr] of pcrs) {
    if (!isInteger(index))
      return missing(`pcrs has a key that is not an integer: ${String(index)}`);
    if (!(pcr instanceof Uint8Array)) return missing(`PCR${String(index)} is not a byte string`);
  }
  const certificate = value.get("certificate");
  if (!(certificate instanceof Uint8Array)) return missing("certificate is absent or not bytes");
  const cabundle = value.get("cabundle");
  if (!Array.isArray(cabundle) || cabundle.length === 0) {
    return missing("cabundle is absent, not an array, or empty");
  }
  for (const [index, entry] of cabundle.entries()) {
    if (!(entry instanceof Uint8Array)) return missing(`cabundle[${index}] is not a byte string`);
  }
  const publicKey = optionalBytes(value, "public_key");
  if (!publicKey.ok) return publicKey;
  const userData = optionalBytes(value, "user_data");
  if (!userData.ok) return userData;
  const nonce = optionalBytes(value, "nonce");
  if (!nonce.ok) return nonce;
  return passed({
    moduleId,
    digest,
    timestampMs: timestamp,
    pcrs: pcrs as Map<number | bigint, Uint8Array>,
    certificate,
    cabundle: cabundle as Uint8Array[],
    publicKey: publicKey.value,
    userData: userData.value,
    nonce: nonce.value,
  });
}

/** An optional byte-string field: absent and CBOR null are both "not set", as the NSM writes it. */
function optionalBytes(
  payload: Map<unknown, unknown>,
  key: string,
): Checked<Uint8Array | undefined> {
  // Absent, or CBOR null as the NSM writes it. CBOR `undefined` (0xf7) is not "absent": the NSM
  // never writes it, so it is a wrong type like any other.
  if (!payload.has(key)) return passed(undefined);
  const field = payload.get(key);
  if (field === null) return passed(undefined);
  if (!(field instanceof Uint8Array)) return missing(`${key} is neither bytes nor null`);
  return passed(field);
}

function checkSizes(fields: TypedFields): Checked<TypedFields> {
  for (const [name, field] of [
    ["public_key", fields.publicKey],
    ["user_data", fields.userData],
    ["nonce", fields.nonce],
  ] as const) {
    if (field !== undefined && field.length > MAX_ATTESTATION_FIELD_BYTES) {
      return tooLarge(`${name} is ${field.length} bytes; at most ${MAX_ATTESTATION_FIELD_BYTES}`);
    }
  }
  if (fields.pcrs.size > MAX_PCR_COUNT) {
    return tooLarge(`${fields.pcrs.size} PCRs; at most ${MAX_PCR_COUNT}`);
  }
  if (fields.certificate.length > MAX_CERTIFICATE_BYTES) {
    return tooLarge(
      `certificate is ${fields.certificate.length} bytes; at most ${MAX_CERTIFICATE_BYTES}`,
    );
  }
  if (fields.cabundle.length > MAX_CABUNDLE_LENGTH) {
    return tooLarge(
      `cabundle has ${fields.cabundle.length} entries; at most ${MAX_CABUNDLE_LENGTH}`,
    );
  }
  for (const [index, entry] of fields.cabundle.entries()) {
    if (entry.length > MAX_CERTIFICATE_BYTES) {
      return tooLarge(
        `cabundle[${index}] is ${entry.length} bytes; at most ${MAX_CERTIFICATE_BYTES}`,
      );
    }
  }
  return passed(fields);
}

/** A CBOR integer as cbor2 decodes it: a whole number, or a bigint beyond 2^53. */
function isInteger(value: unknown): value is number | bigint {
  return typeof value === "bigint" || (typeof value === "number" && Number.isInteger(value));
}

function missing(detail: string): Checked<never> {
  return failed(VerificationFailure.MISSING_FIELD, detail);
}

function tooLarge(detail: string): Checked<never> {
  return failed(VerificationFailure.FIELD_TOO_LARGE, detail);
}
