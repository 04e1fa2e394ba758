import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { p256 } from "@noble/curves/nist.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DeviceProofPayloadSchema,
  DeviceProofPurpose,
  DeviceProofSchema,
} from "../../gen/vettid/enrollment/v1/device_pb.js";
import { type DynaliteHandle, startDynalite } from "../../test/support/dynalite.js";
import { createDeviceProofNoncesTable, ensureTables } from "../storage/index.js";
import {
  createDeviceProofChecker,
  type DeviceProofChecker,
  deviceProofMessage,
} from "./device-proof.js";

const NOW = Date.UTC(2026, 4, 1, 12);
const SUBJECT = "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b";
const DIGEST = sha256(new Uint8Array([1, 2, 3]));
const secret = p256.utils.randomSecretKey();
const publicKey = p256.getPublicKey(secret, false);

let dynalite: DynaliteHandle;
let checker: DeviceProofChecker;
beforeAll(async () => {
  dynalite = await startDynalite();
  await ensureTables(dynalite.client, "unit", { tables: ["deviceProofNonces"] });
  checker = createDeviceProofChecker({
    nonces: createDeviceProofNoncesTable({ client: dynalite.client, environment: "unit" }),
    now: () => NOW,
  });
});
afterAll(async () => {
  await dynalite?.stop();
});

function payload(overrides: Record<string, unknown> = {}): Uint8Array {
  return toBinary(
    DeviceProofPayloadSchema,
    create(DeviceProofPayloadSchema, {
      purpose: DeviceProofPurpose.NATS_REFRESH,
      subjectId: SUBJECT,
      requestDigest: DIGEST,
      signedAtMs: BigInt(NOW),
      nonce: crypto.getRandomValues(new Uint8Array(16)),
      ...overrides,
    }),
  );
}

function sign(bytes: Uint8Array, lowS = true): Uint8Array {
  const der = p256.sign(deviceProofMessage(bytes), secret, { format: "der", prehash: true });
  if (lowS) return der;
  // The same signature with s replaced by n - s: valid ECDSA, what a phone may produce.
  const signature = p256.Signature.fromBytes(der, "der");
  return new p256.Signature(signature.r, p256.Point.CURVE().n - signature.s).toBytes("der");
}

async function denial(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.PermissionDenied);
    return (error as ConnectError).rawMessage;
  }
  throw new Error("expected permission_denied");
}

const expectation = {
  purpose: DeviceProofPurpose.NATS_REFRESH,
  subjectId: SUBJECT,
  requestDigest: DIGEST,
};

describe("device proofs", () => {
  it("accept a DER signature over label || 0 || payload, high S included", async () => {
    for (const lowS of [true, false]) {
      const bytes = payload();
      const proof = create(DeviceProofSchema, { payload: bytes, signature: sign(bytes, lowS) });
      await checker.verify("device_proof", proof, publicKey, expectation);
    }
  });

  it("refuse a replayed nonce", async () => {
    const bytes = payload();
    const proof = create(DeviceProofSchema, { payload: bytes, signature: sign(bytes) });
    await checker.verify("device_proof", proof, publicKey, expectation);
    expect(await denial(checker.verify("device_proof", proof, publicKey, expectation))).toContain(
      "replayed",
    );
  });

  it("refuse every mismatch with permission_denied naming the check", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ purpose: DeviceProofPurpose.BACKUP_UPLOAD }, "authorises BACKUP_UPLOAD, not NATS_REFRESH"],
      [{ subjectId: "another" }, "subject_id"],
      [{ requestDigest: new Uint8Array(32) }, "request_digest"],
      [{ signedAtMs: BigInt(NOW + 6 * 60_000) }, "signed_at_ms"],
      [{ signedAtMs: BigInt(NOW - 6 * 60_000) }, "signed_at_ms"],
      [{ nonce: new Uint8Array(8) }, "nonce must be 16 bytes"],
    ];
    for (const [overrides, message] of cases) {
      const bytes = payload(overrides);
      const proof = create(DeviceProofSchema, { payload: bytes, signature: sign(bytes) });
      expect(await denial(checker.verify("device_proof", proof, publicKey, expectation))).toContain(
        message,
      );
    }
    const bytes = payload();
    const otherKey = p256.getPublicKey(p256.utils.randomSecretKey(), false);
    expect(
      await denial(
        checker.verify(
          "device_proof",
          create(DeviceProofSchema, { payload: bytes, signature: sign(bytes) }),
          otherKey,
          expectation,
        ),
      ),
    ).toContain("not by the device key");
    const garbage = create(DeviceProofSchema, {
      payload: new Uint8Array([0xff]),
      signature: sign(new Uint8Array([0xff])),
    });
    expect(await denial(checker.verify("device_proof", garbage, publicKey, expectation))).toContain(
      "not a DeviceProofPayload",
    );
    const malformedSignature = create(DeviceProofSchema, {
      payload: bytes,
      signature: new Uint8Array(70).fill(0x30),
    });
    expect(
      await denial(checker.verify("device_proof", malformedSignature, publicKey, expectation)),
    ).toContain("signature");
  });

  it("check the shape before anything else, as invalid_argument", () => {
    expect(() => checker.checkShape("device_proof", undefined)).toThrow("device_proof is required");
    expect(() =>
      checker.checkShape(
        "device_proof",
        create(DeviceProofSchema, { payload: new Uint8Array(1025), signature: new Uint8Array(70) }),
      ),
    ).toThrow("at most 1024");
    expect(() =>
      checker.checkShape(
        "device_proof",
        create(DeviceProofSchema, { payload: new Uint8Array(10), signature: new Uint8Array(73) }),
      ),
    ).toThrow("at most 72");
  });
});
