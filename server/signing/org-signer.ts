import type { BackendSignedObject } from "../../clients/sdk/voting/index.js";
import { type SignatureContext, signedMessage } from "../../clients/sdk/voting/index.js";
import { SignatureAlgorithm } from "../../gen/vettid/voting/v1/signature_pb.js";

/** The public half of a backend signing key, as verifiers pin it. */
export interface SignerKey {
  /** Lowercase hex SHA-256 of the DER SPKI (signature.proto's key id). */
  readonly keyId: string;
  /** DER SubjectPublicKeyInfo of the P-256 key (what KMS `GetPublicKey` returns). */
  readonly spki: Uint8Array;
}

/**
 * An ECDSA P-256 / SHA-256 signing key of the backend: the org proposal key or the subscription
 * key. In production a KMS key ({@link createKmsSigner}); in development and tests a local key
 * ({@link createLocalP256Signer}) behind the same interface. Signatures are DER and, like KMS's,
 * not low-S normalised.
 */
export interface OrgSigner {
  /** The key's id and public key; fetched once (KMS `GetPublicKey`) and cached. */
  describe(): Promise<SignerKey>;
  /**
   * Signs `message` (ECDSA over SHA-256(message)) and returns the DER signature, checked against
   * the public key before it is returned.
   */
  signMessage(message: Uint8Array): Promise<Uint8Array>;
}

/**
 * Signs `payload` under a signature context (`context || 0x00 || payload`, signature.proto) and
 * returns the fields every backend-signed message carries.
 */
export async function signBackendObject(
  signer: OrgSigner,
  context: SignatureContext,
  payload: Uint8Array,
): Promise<BackendSignedObject> {
  const [key, signature] = await Promise.all([
    signer.describe(),
    signer.signMessage(signedMessage(context, payload)),
  ]);
  return {
    payload,
    signature,
    signingKeyId: key.keyId,
    algorithm: SignatureAlgorithm.ECDSA_P256_SHA256,
  };
}
