import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { p256 } from "@noble/curves/nist.js";
import { equalBytes } from "@noble/curves/utils.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import {
  type DeviceProof,
  type DeviceProofPayload,
  DeviceProofPayloadSchema,
  DeviceProofPurpose,
} from "../../gen/vettid/enrollment/v1/device_pb.js";
import type { DeviceProofNoncesTable } from "../storage/device-proof-nonces-table.js";
import { invalidArgument } from "./request-fields.js";

/** Domain label of device proofs (device.proto, "vettid-device-proof-v1"). */
export const DEVICE_PROOF_LABEL = "vettid-device-proof-v1";

/**
 * How far a proof's `signed_at_ms` may lie from the server's clock, either way: five minutes
 * (device.proto), for phone clocks that drift; nonces are remembered for as long.
 */
export const DEFAULT_DEVICE_PROOF_WINDOW_MS = 5 * 60_000;

/**
 * Largest serialised proof payload accepted: 1 KiB. A real one is about 110 bytes (purpose, a
 * 36-character id, a 32-byte digest, a time, a 16-byte nonce); the bound keeps a hostile payload
 * from costing more than a signature check.
 */
export const MAX_DEVICE_PROOF_PAYLOAD_BYTES = 1024;

/** Longest DER ECDSA P-256 signature (device.proto: at most 72 bytes). */
export const MAX_DEVICE_PROOF_SIGNATURE_BYTES = 72;

/** Length of a proof's nonce (device.proto: 16 random bytes). */
export const DEVICE_PROOF_NONCE_LENGTH = 16;

/** What a proof must say to authorise one request. */
export interface DeviceProofExpectation {
  readonly purpose: DeviceProofPurpose;
  /** The session id, owner guid or recovery id the request acts on. */
  readonly subjectId: string;
  /** SHA-256 of the purpose-specific content, or empty where the purpose says so. */
  readonly requestDigest: Uint8Array;
}

/** Checks device proofs (device.proto): shape, signature, statement, time, and single use. */
export interface DeviceProofChecker {
  /**
   * Checks that a proof is present and sized as the schema says, without verifying it (so a
   * request is refused with `invalid_argument` before anything is read or written).
   */
  checkShape(field: string, proof: DeviceProof | undefined): DeviceProof;
  /**
   * Verifies `proof` against the device key and the expectation, then remembers its nonce.
   * Every failure is `permission_denied` (device.proto), with a message naming the check.
   */
  verify(
    field: string,
    proof: DeviceProof,
    devicePublicKey: Uint8Array,
    expectation: DeviceProofExpectation,
  ): Promise<void>;
}

/** Options of {@link createDeviceProofChecker}. */
export interface DeviceProofCheckerOptions {
  /** Where used nonces are remembered (shared by every instance). */
  readonly nonces: DeviceProofNoncesTable;
  /** Default {@link DEFAULT_DEVICE_PROOF_WINDOW_MS}. */
  readonly windowMs?: number;
  /** Clock in ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/** The message a device signs: UTF-8 label || 0x00 || payload (device.proto). */
export function deviceProofMessage(payload: Uint8Array): Uint8Array {
  const label = new TextEncoder().encode(DEVICE_PROOF_LABEL);
  const message = new Uint8Array(label.length + 1 + payload.length);
  message.set(label, 0);
  message.set(payload, label.length + 1);
  return message;
}

/** Creates the checker the enrollment, credential and backup services share. */
export function createDeviceProofChecker(options: DeviceProofCheckerOptions): DeviceProofChecker {
  const windowMs = options.windowMs ?? DEFAULT_DEVICE_PROOF_WINDOW_MS;
  const now = options.now ?? Date.now;
  return {
    checkShape(field, proof) {
      if (proof === undefined) throw invalidArgument(`${field} is required`);
      if (proof.payload.byteLength === 0) throw invalidArgument(`${field}.payload is required`);
      if (proof.payload.byteLength > MAX_DEVICE_PROOF_PAYLOAD_BYTES) {
        throw invalidArgument(
          `${field}.payload is ${proof.payload.byteLength} bytes; at most ${MAX_DEVICE_PROOF_PAYLOAD_BYTES}`,
        );
      }
      if (proof.signature.byteLength === 0) throw invalidArgument(`${field}.signature is required`);
      if (proof.signature.byteLength > MAX_DEVICE_PROOF_SIGNATURE_BYTES) {
        throw invalidArgument(
          `${field}.signature is ${proof.signature.byteLength} bytes; a DER P-256 signature has at most ${MAX_DEVICE_PROOF_SIGNATURE_BYTES}`,
        );
      }
      return proof;
    },

    async verify(field, proof, devicePublicKey, expectation) {
      const denied = (why: string) =>
        new ConnectError(`${field} refused: ${why}`, Code.PermissionDenied);
      let valid = false;
      try {
        // DER as Android and CryptoKit produce it; high S accepted, as neither normalises S.
        valid = p256.verify(proof.signature, deviceProofMessage(proof.payload), devicePublicKey, {
          format: "der",
          lowS: false,
          prehash: true,
        });
      } catch {
        valid = false;
      }
      if (!valid) throw denied("the signature is not by the device key this request needs");
      let payload: DeviceProofPayload;
      try {
        payload = fromBinary(DeviceProofPayloadSchema, proof.payload);
      } catch {
        throw denied("the signed payload is not a DeviceProofPayload");
      }
      if (payload.purpose !== expectation.purpose) {
        throw denied(
          `it authorises ${DeviceProofPurpose[payload.purpose] ?? payload.purpose}, not ${DeviceProofPurpose[expectation.purpose]}`,
        );
      }
      if (payload.subjectId !== expectation.subjectId) {
        throw denied("its subject_id is not the id this request acts on");
      }
      if (!equalBytes(payload.requestDigest, expectation.requestDigest)) {
        throw denied("its request_digest does not match this request's content");
      }
      const nowMs = now();
      const signedAtMs = Number(payload.signedAtMs);
      if (!Number.isSafeInteger(signedAtMs) || Math.abs(signedAtMs - nowMs) > windowMs) {
        throw denied(
          `signed_at_ms is more than ${windowMs / 60_000} minutes from the server's clock`,
        );
      }
      if (payload.nonce.byteLength !== DEVICE_PROOF_NONCE_LENGTH) {
        throw denied(`its nonce must be ${DEVICE_PROOF_NONCE_LENGTH} bytes`);
      }
      const nonceId = bytesToHex(sha256(concat(devicePublicKey, payload.nonce)));
      const fresh = await options.nonces.remember(
        nonceId,
        Math.max(signedAtMs, nowMs) + windowMs,
        nowMs,
      );
      if (!fresh) throw denied("its nonce was already used (a replayed proof)");
    },
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
