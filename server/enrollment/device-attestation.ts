import { Code, ConnectError } from "@connectrpc/connect";
import {
  type DeviceAttestation,
  DeviceAttestationPlatform,
} from "../../gen/vettid/enrollment/v1/device_pb.js";
import { requireDevicePublicKey } from "./device-key.js";
import { invalidArgument } from "./request-fields.js";

/** Largest platform attestation token accepted (device.proto: up to 16 KiB). */
export const MAX_DEVICE_ATTESTATION_TOKEN_BYTES = 16 * 1024;

/** A device whose attestation was accepted. */
export interface VerifiedDevice {
  readonly platform: DeviceAttestationPlatform;
  /** The attested key (65-byte SEC1 point): the session is bound to it. */
  readonly devicePublicKey: Uint8Array;
}

/**
 * Verifies one platform's attestation tokens (Play Integrity verdicts, App Attest objects): that
 * the token is genuine, from our app on genuine hardware, and commits to
 * `deviceKeyChallenge(devicePublicKey)`. Rejects with `permission_denied` naming the check.
 */
export interface PlatformAttestationVerifier {
  verify(token: Uint8Array, devicePublicKey: Uint8Array): Promise<void>;
}

/**
 * Decides whether a device attestation is accepted. Shape errors are `invalid_argument`
 * ({@link checkDeviceAttestationShape}, also applied first here); a token that does not verify,
 * a platform without a verifier, or an unattested development device on a backend that does not
 * allow them are `permission_denied`.
 */
export interface DeviceAttestationVerifier {
  verify(attestation: DeviceAttestation, field: string): Promise<VerifiedDevice>;
}

/**
 * Checks a device attestation's shape (`invalid_argument` naming the field): a known platform,
 * a token of the size the platform implies, a valid P-256 key. Services call it while validating
 * the request, before anything is read or written.
 */
export function checkDeviceAttestationShape(attestation: DeviceAttestation, field: string): void {
  requireDevicePublicKey(`${field}.device_public_key`, attestation.devicePublicKey);
  const { platform, token } = attestation;
  if (token.byteLength > MAX_DEVICE_ATTESTATION_TOKEN_BYTES) {
    throw invalidArgument(
      `${field}.token is ${token.byteLength} bytes; at most ${MAX_DEVICE_ATTESTATION_TOKEN_BYTES}`,
    );
  }
  switch (platform) {
    case DeviceAttestationPlatform.DEV_UNATTESTED:
      if (token.byteLength !== 0) {
        throw invalidArgument(`${field}.token must be empty for DEV_UNATTESTED`);
      }
      return;
    case DeviceAttestationPlatform.ANDROID_PLAY_INTEGRITY:
    case DeviceAttestationPlatform.IOS_APP_ATTEST:
      if (token.byteLength === 0) throw invalidArgument(`${field}.token is required`);
      return;
    default:
      throw invalidArgument(
        `${field}.platform must be ANDROID_PLAY_INTEGRITY, IOS_APP_ATTEST or DEV_UNATTESTED, got ${platform}`,
      );
  }
}

/** Options of {@link createDeviceAttestationVerifier}. */
export interface DeviceAttestationVerifierOptions {
  /**
   * A verifier per platform. Play Integrity needs Google's decode API and App Attest Apple's root
   * and the app id; neither can run here, so none is built yet: a platform without one is refused.
   */
  readonly platforms?: Partial<Record<DeviceAttestationPlatform, PlatformAttestationVerifier>>;
  /**
   * Accept DEV_UNATTESTED devices (emulators, development builds): no platform proof at all, the
   * key is bound by the device proofs alone. Default false; the Lambda configuration refuses it
   * in production.
   */
  readonly allowUnattested?: boolean;
}

/**
 * The device attestation policy: checks the attestation's shape, then hands the token to the
 * platform's verifier, or accepts an unattested development device when allowed.
 */
export function createDeviceAttestationVerifier(
  options: DeviceAttestationVerifierOptions = {},
): DeviceAttestationVerifier {
  const platforms = options.platforms ?? {};
  const allowUnattested = options.allowUnattested ?? false;
  return {
    async verify(attestation, field) {
      checkDeviceAttestationShape(attestation, field);
      const { platform, token, devicePublicKey } = attestation;
      if (platform === DeviceAttestationPlatform.DEV_UNATTESTED) {
        if (!allowUnattested) {
          throw new ConnectError(
            `${field}: unattested development devices are not accepted by this backend`,
            Code.PermissionDenied,
          );
        }
        return { platform, devicePublicKey };
      }
      const verifier = platforms[platform];
      if (verifier === undefined) {
        throw new ConnectError(
          `${field}: ${DeviceAttestationPlatform[platform]} attestation cannot be verified by this backend`,
          Code.PermissionDenied,
        );
      }
      await verifier.verify(token, devicePublicKey);
      return { platform, devicePublicKey };
    },
  };
}
