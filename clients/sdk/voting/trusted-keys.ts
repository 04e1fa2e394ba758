import { SignatureAlgorithm } from "../../../gen/vettid/voting/v1/signature_pb.js";
import { type SignatureContext, signedMessage } from "./labels.js";
import { keyIdOfSpki, p256PointFromSpki, verifyP256Der } from "./p256-signature.js";

/**
 * Pinned backend public keys (the org proposal key, the subscription key), by key id. Apps bundle
 * them; the enclave image compiles them in. A signature is only ever checked against a key found
 * here by the id the signed object names; no key travels with what it signs.
 */
export interface TrustedKeys {
  /** The raw P-256 point of the key with this id, or undefined. */
  point(keyId: string): Uint8Array | undefined;
  /**
   * Verifies a DER ECDSA P-256 / SHA-256 signature (high S accepted) over `message` with the key
   * of this id; undefined when no key has this id.
   */
  verify(keyId: string, signature: Uint8Array, message: Uint8Array): boolean | undefined;
  /** Every pinned key id. */
  readonly keyIds: readonly string[];
}

/**
 * Pins keys given as DER SPKIs (KMS `GetPublicKey` output).
 *
 * @throws TypeError naming the key that is not a P-256 SPKI.
 */
export function trustKeys(spkis: readonly Uint8Array[]): TrustedKeys {
  const points = new Map<string, Uint8Array>();
  spkis.forEach((spki, index) => {
    const parsed = p256PointFromSpki(spki);
    if (!parsed.ok) throw new TypeError(`trusted key ${index}: ${parsed.problem}`);
    points.set(keyIdOfSpki(spki), parsed.point);
  });
  return {
    point: (keyId) => points.get(keyId),
    verify(keyId, signature, message) {
      const point = points.get(keyId);
      return point === undefined ? undefined : verifyP256Der(signature, message, point);
    },
    keyIds: [...points.keys()],
  };
}

/** A backend-signed object as every such message carries it (payload, signature, key id, algorithm). */
export interface BackendSignedObject {
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
  readonly signingKeyId: string;
  readonly algorithm: SignatureAlgorithm;
}

/** Why a backend signature was refused. */
export type BackendSignatureFailure = "unsupported_algorithm" | "unknown_key" | "bad_signature";

/**
 * Verifies a backend signature as signature.proto prescribes: algorithm ECDSA P-256 / SHA-256,
 * a pinned key named by `signingKeyId`, DER signature (high-S accepted) over
 * `context || 0x00 || payload`. Returns the failure, or undefined when it verifies. Never throws.
 */
export function backendSignatureFailure(
  object: BackendSignedObject,
  context: SignatureContext,
  keys: TrustedKeys,
): BackendSignatureFailure | undefined {
  if (object.algorithm !== SignatureAlgorithm.ECDSA_P256_SHA256) return "unsupported_algorithm";
  if (keys.point(object.signingKeyId) === undefined) return "unknown_key";
  if (!(object.payload instanceof Uint8Array) || !(object.signature instanceof Uint8Array)) {
    return "bad_signature";
  }
  return keys.verify(object.signingKeyId, object.signature, signedMessage(context, object.payload))
    ? undefined
    : "bad_signature";
}

/** A sentence for a {@link BackendSignatureFailure}, naming what was signed. */
export function describeBackendSignatureFailure(
  failure: BackendSignatureFailure,
  what: string,
  keyId: string,
): string {
  switch (failure) {
    case "unsupported_algorithm":
      return `${what}: signature algorithm is not ECDSA P-256 / SHA-256`;
    case "unknown_key":
      return `${what}: signed by key ${keyId.slice(0, 16)}…, which is not a pinned key`;
    case "bad_signature":
      return `${what}: the signature does not verify`;
  }
}
