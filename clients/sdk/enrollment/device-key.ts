import { create, toBinary } from "@bufbuild/protobuf";
import { p256 } from "@noble/curves/nist.js";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  type DeviceAttestation,
  DeviceAttestationPlatform,
  DeviceAttestationSchema,
  type DeviceProof,
  DeviceProofPayloadSchema,
  type DeviceProofPurpose,
  DeviceProofSchema,
} from "../../../gen/vettid/enrollment/v1/device_pb.js";

/** Domain label binding a platform attestation to the device key (device.proto). */
export const DEVICE_ATTESTATION_LABEL = "vettid-device-v1";
/** Domain label of device proofs (device.proto). */
export const DEVICE_PROOF_LABEL = "vettid-device-proof-v1";

/**
 * The member's device key: ECDSA P-256, its private half in hardware on a phone (Secure Enclave
 * `SecureEnclave.P256.Signing`, Android Keystore / StrongBox). The SDK only needs the public key
 * and a signing function, so each platform plugs in its own.
 */
export interface DeviceKey {
  /** The public key: SEC1 uncompressed point, 65 bytes (0x04 ‖ X ‖ Y). */
  readonly publicKey: Uint8Array;
  /** ECDSA P-256 with SHA-256 over `message`, DER-encoded (as Android and CryptoKit produce). */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/**
 * A device key in software, for Node (the `vettid` command, tests): there is no hardware to hold
 * it, so the 32-byte secret is returned for the caller to keep in its {@link SecureStorage}.
 * Pass `secretKey` to load a stored one.
 *
 * @throws TypeError when `secretKey` is not a valid P-256 secret key.
 */
export function softwareDeviceKey(secretKey?: Uint8Array): {
  key: DeviceKey;
  secretKey: Uint8Array;
} {
  const secret = secretKey?.slice() ?? p256.utils.randomSecretKey();
  let publicKey: Uint8Array;
  try {
    publicKey = p256.getPublicKey(secret, false);
  } catch {
    throw new TypeError("the stored device key is not a P-256 secret key");
  }
  return {
    secretKey: secret,
    key: {
      publicKey,
      sign: async (message) => p256.sign(message, secret, { format: "der" }),
    },
  };
}

/**
 * The challenge a platform attestation must commit to: SHA-256("vettid-device-v1" ‖ 0x00 ‖
 * device public key). Android: `requestHash` = lowercase hex of it; iOS App Attest:
 * `clientDataHash` = it (device.proto).
 */
export function deviceAttestationChallenge(devicePublicKey: Uint8Array): Uint8Array {
  return sha256(labelled(DEVICE_ATTESTATION_LABEL, devicePublicKey));
}

/**
 * Obtains a platform attestation of the device key. Phones call Play Integrity or App Attest with
 * {@link deviceAttestationChallenge}; the default, {@link devUnattested}, is for development
 * backends only (production refuses it).
 */
export type DeviceAttester = (devicePublicKey: Uint8Array) => Promise<DeviceAttestation>;

/** No platform attestation: `DEV_UNATTESTED`, empty token. Development backends only. */
export const devUnattested: DeviceAttester = async (devicePublicKey) =>
  create(DeviceAttestationSchema, {
    platform: DeviceAttestationPlatform.DEV_UNATTESTED,
    token: new Uint8Array(0),
    devicePublicKey,
  });

/**
 * A device proof ("vettid-device-proof-v1"): a DeviceProofPayload serialised once, signed over
 * `"vettid-device-proof-v1" ‖ 0x00 ‖ payload` with the device key, sent with those same bytes.
 * `requestDigest` is SHA-256 of what the purpose binds (device.proto, `DeviceProofPurpose`).
 */
export async function createDeviceProof(
  key: DeviceKey,
  proof: {
    readonly purpose: DeviceProofPurpose;
    readonly subjectId: string;
    readonly requestDigest: Uint8Array;
    readonly nowMs?: number;
  },
): Promise<DeviceProof> {
  const payload = toBinary(
    DeviceProofPayloadSchema,
    create(DeviceProofPayloadSchema, {
      purpose: proof.purpose,
      subjectId: proof.subjectId,
      requestDigest: proof.requestDigest,
      signedAtMs: BigInt(proof.nowMs ?? Date.now()),
      nonce: crypto.getRandomValues(new Uint8Array(16)),
    }),
  );
  return create(DeviceProofSchema, {
    payload,
    signature: await key.sign(labelled(DEVICE_PROOF_LABEL, payload)),
  });
}

/** UTF-8 `label` ‖ 0x00 ‖ `bytes`. */
function labelled(label: string, bytes: Uint8Array): Uint8Array {
  const prefix = new TextEncoder().encode(label);
  const message = new Uint8Array(prefix.length + 1 + bytes.length);
  message.set(prefix, 0);
  message.set(bytes, prefix.length + 1);
  return message;
}
