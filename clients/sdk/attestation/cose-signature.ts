import { p384 } from "@noble/curves/nist.js";
import { VerificationFailure } from "../../../gen/vettid/attestation/v1/document_pb.js";
import type { ParsedCertificate } from "./certificate.js";
import { type Checked, errorMessage, failed, passed } from "./check-result.js";
import { type CoseSign1, sigStructure } from "./cose-sign1.js";

/**
 * Verifies the COSE_Sign1 signature: ES384 (ECDSA P-384, SHA-384 of the message) over
 * {@link sigStructure} of the document's original protected-header and payload bytes, the
 * signature raw r‖s, under the leaf certificate's key. High-S signatures are accepted: ECDSA
 * allows both s and n−s, AWS's NSM produces both, and `@noble/curves` refuses high S unless told
 * `lowS: false`. Fails `SIGNATURE`; never throws.
 */
export function verifyCoseSignature(cose: CoseSign1, leaf: ParsedCertificate): Checked<void> {
  const point = p384PublicPoint(leaf);
  if (point === undefined) return failed(VerificationFailure.SIGNATURE, "leaf key is not P-384");
  const message = sigStructure(cose.protectedHeader, cose.payload);
  let valid: boolean;
  try {
    valid = p384.verify(cose.signature, message, point, {
      lowS: false,
      prehash: true,
      format: "compact",
    });
  } catch (error) {
    return failed(VerificationFailure.SIGNATURE, `signature is unusable: ${errorMessage(error)}`);
  }
  return valid
    ? passed(undefined)
    : failed(VerificationFailure.SIGNATURE, "signature does not verify under the leaf's key");
}

/** The leaf's key as an uncompressed SEC1 point (0x04 ‖ x ‖ y), or undefined if not P-384. */
function p384PublicPoint(leaf: ParsedCertificate): Uint8Array | undefined {
  try {
    const key = leaf.x509.publicKey;
    if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "secp384r1") {
      return undefined;
    }
    const jwk = key.export({ format: "jwk" });
    if (jwk.x === undefined || jwk.y === undefined) return undefined;
    const x = Buffer.from(jwk.x, "base64url");
    const y = Buffer.from(jwk.y, "base64url");
    if (x.length !== 48 || y.length !== 48) return undefined;
    return Uint8Array.of(0x04, ...x, ...y);
  } catch {
    return undefined;
  }
}
