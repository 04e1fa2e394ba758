import { encode, Tag } from "cbor2";
import { COSE_ALG_ES384, COSE_SIGN1_TAG, ES384_SIGNATURE_LENGTH } from "./constants.js";
import { NsmError } from "./nsm-error.js";
import { plainBytes } from "./plain-bytes.js";
import { P384_SIGNATURE_ALGORITHM } from "./x509-issuer.js";

/** COSE header label of the algorithm (RFC 9052 §3.1). */
const HEADER_ALG = 1;

/**
 * The protected header of every Nitro document, `{1: -35}` (alg ES384), as the bytes AWS writes:
 * `a1 01 38 22`.
 */
export const ES384_PROTECTED_HEADER: Uint8Array = encode(new Map([[HEADER_ALG, COSE_ALG_ES384]]));

const EMPTY = new Uint8Array(0);

/**
 * The bytes an ES384 COSE_Sign1 signature covers (RFC 9052 §4.4):
 * `["Signature1", protected, external_aad, payload]`, with the protected header and payload as
 * the exact bstr contents of the document (never re-encoded) and an empty external_aad, as Nitro
 * uses.
 */
export function sigStructure(
  protectedHeader: Uint8Array,
  payload: Uint8Array,
  externalAad: Uint8Array = EMPTY,
): Uint8Array {
  return encode([
    "Signature1",
    plainBytes(protectedHeader),
    plainBytes(externalAad),
    plainBytes(payload),
  ]);
}

/** Options of {@link signCoseSign1}. */
export interface SignCoseSign1Options {
  /**
   * Wrap the COSE_Sign1 in CBOR tag 18. Default false: the real NSM writes it untagged
   * (first byte 0x84); tagged output lets verifier tests cover the other form RFC 9052 allows.
   */
  readonly tagged?: boolean;
}

/**
 * Signs `payload` as a COSE_Sign1 the way the Nitro NSM does: `[protected = {1: -35}, unprotected
 * = {}, payload, signature]`, where the signature is ES384 (WebCrypto ECDSA P-384 / SHA-384) over
 * {@link sigStructure}, written raw as r‖s (96 bytes), not DER.
 *
 * @throws NsmError `state_invalid` if the key does not give a 96-byte P-384 signature.
 */
export async function signCoseSign1(
  payload: Uint8Array,
  signingKey: CryptoKey,
  options: SignCoseSign1Options = {},
): Promise<Uint8Array> {
  // A copy over its own ArrayBuffer, as WebCrypto takes.
  const toSign = new Uint8Array(sigStructure(ES384_PROTECTED_HEADER, payload));
  const signature = new Uint8Array(
    await crypto.subtle.sign(P384_SIGNATURE_ALGORITHM, signingKey, toSign),
  );
  if (signature.length !== ES384_SIGNATURE_LENGTH) {
    throw new NsmError(
      "state_invalid",
      `signing key gave a ${signature.length}-byte signature; ES384 needs ${ES384_SIGNATURE_LENGTH} (a P-384 key)`,
    );
  }
  const sign1 = [plainBytes(ES384_PROTECTED_HEADER), new Map(), plainBytes(payload), signature];
  return encode(options.tagged === true ? new Tag(COSE_SIGN1_TAG, sign1) : sign1);
}
