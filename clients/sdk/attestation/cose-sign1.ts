import { encode, Tag } from "cbor2";
import { VerificationFailure } from "../../../gen/vettid/attestation/v1/document_pb.js";
import { plainBytes } from "./bytes.js";
import { decodeCbor } from "./cbor.js";
import { type Checked, failed, passed } from "./check-result.js";
import {
  COSE_ALG_ES384,
  COSE_HEADER_ALG,
  COSE_HEADER_CRIT,
  COSE_SIGN1_TAG,
  ES384_SIGNATURE_LENGTH,
} from "./constants.js";

/** The parts of a COSE_Sign1 (RFC 9052 §4.2), byte strings exactly as the document holds them. */
export interface CoseSign1 {
  /** Whether the structure was wrapped in tag 18. */
  readonly tagged: boolean;
  /** The protected header's bstr contents, as in the document (signed as they are). */
  readonly protectedHeader: Uint8Array;
  /** The payload's bstr contents, as in the document (signed as they are). */
  readonly payload: Uint8Array;
  /** The signature: raw r‖s, {@link ES384_SIGNATURE_LENGTH} bytes. */
  readonly signature: Uint8Array;
}

/**
 * Decodes a COSE_Sign1, tagged (18) or untagged as the NSM writes it, and checks its shape and
 * algorithm: `[protected: bstr, unprotected: map, payload: bstr, signature: bstr .size 96]`, with
 * the protected header a map whose `alg` is ES384 and without `crit`. Fails `MALFORMED_CBOR`,
 * `MALFORMED_COSE` or `UNSUPPORTED_ALGORITHM`; never throws.
 */
export function parseCoseSign1(document: Uint8Array): Checked<CoseSign1> {
  const decoded = decodeCbor(document, "document");
  if (!decoded.ok) return decoded;
  let top = decoded.value;
  const tagged = top instanceof Tag;
  if (top instanceof Tag) {
    if (top.tag !== COSE_SIGN1_TAG) {
      return malformed(`document has CBOR tag ${String(top.tag)}, not ${COSE_SIGN1_TAG}`);
    }
    top = top.contents;
  }
  if (!Array.isArray(top) || top.length !== 4) {
    return malformed("document is not a COSE_Sign1 array of 4 items");
  }
  const [protectedHeader, unprotected, payload, signature] = top as unknown[];
  if (!(protectedHeader instanceof Uint8Array)) {
    return malformed("protected header is not a byte string");
  }
  if (!(unprotected instanceof Map)) return malformed("unprotected header is not a map");
  if (!(payload instanceof Uint8Array)) {
    return malformed("payload is not a byte string (detached payloads are not Nitro's)");
  }
  if (!(signature instanceof Uint8Array)) return malformed("signature is not a byte string");
  if (signature.length !== ES384_SIGNATURE_LENGTH) {
    return malformed(
      `signature is ${signature.length} bytes; ES384 is ${ES384_SIGNATURE_LENGTH} (raw r‖s, not DER)`,
    );
  }

  // An empty bstr is an empty protected header (RFC 9052 §3): no algorithm.
  let header: unknown = new Map();
  if (protectedHeader.length > 0) {
    const decodedHeader = decodeCbor(protectedHeader, "protected header");
    if (!decodedHeader.ok) return decodedHeader;
    header = decodedHeader.value;
  }
  if (!(header instanceof Map)) return malformed("protected header is not a map");
  if (header.has(COSE_HEADER_CRIT)) {
    return malformed("protected header lists critical parameters, which Nitro never sets");
  }
  const alg: unknown = header.get(COSE_HEADER_ALG);
  if (alg !== COSE_ALG_ES384) {
    return failed(
      VerificationFailure.UNSUPPORTED_ALGORITHM,
      `protected header alg is ${alg === undefined ? "absent" : String(alg)}, not ES384 (${COSE_ALG_ES384})`,
    );
  }
  return passed({ tagged, protectedHeader, payload, signature });
}

const EMPTY = new Uint8Array(0);

/**
 * The bytes an ES384 COSE_Sign1 signature covers (RFC 9052 §4.4):
 * `["Signature1", protected, external_aad, payload]`, with `protectedHeader` and `payload` the
 * exact bstr contents from the document (never re-encoded from decoded values) and an empty
 * external_aad, as Nitro uses.
 */
export function sigStructure(protectedHeader: Uint8Array, payload: Uint8Array): Uint8Array {
  return encode(["Signature1", plainBytes(protectedHeader), EMPTY, plainBytes(payload)]);
}

function malformed(detail: string): Checked<never> {
  return failed(VerificationFailure.MALFORMED_COSE, detail);
}
