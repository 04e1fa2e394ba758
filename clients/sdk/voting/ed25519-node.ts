import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { base64Encode } from "@bufbuild/protobuf/wire";
import {
  type Ed25519Verify,
  ed25519PublicKeyProblem,
  ed25519SignatureProblem,
} from "./ed25519-strict.js";

/**
 * Node's Ed25519 (OpenSSL) behind the same strict checks as {@link verifyEd25519Strict}: the key
 * and signature encodings are checked first, small-order keys refused, then OpenSSL verifies.
 * The key is imported as a JWK (a raw 32-byte import; a DER SPKI import costs more than the
 * verification itself). Node only. Never throws: malformed input is false.
 */
export const verifyEd25519Node: Ed25519Verify = (signature, message, publicKey) => {
  if (ed25519PublicKeyProblem(publicKey) !== undefined) return false;
  if (ed25519SignatureProblem(signature) !== undefined) return false;
  try {
    return verify(null, message, importKey(publicKey), signature);
  } catch {
    return false;
  }
};

/**
 * A verifier bound to one public key, imported once: for the enclave countersigning key that
 * signed every vote of a list. Returns undefined when the key itself fails the strict checks.
 */
export function createEd25519KeyVerifier(
  publicKey: Uint8Array,
): ((signature: Uint8Array, message: Uint8Array) => boolean) | undefined {
  if (ed25519PublicKeyProblem(publicKey) !== undefined) return undefined;
  let key: KeyObject;
  try {
    key = importKey(publicKey);
  } catch {
    return undefined;
  }
  return (signature, message) => {
    if (ed25519SignatureProblem(signature) !== undefined) return false;
    try {
      return verify(null, message, key, signature);
    } catch {
      return false;
    }
  };
}

function importKey(publicKey: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: base64Encode(publicKey, "url") },
    format: "jwk",
  });
}
