import { createPublicKey, generateKeyPairSync, verify as nodeVerify } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createControlVerifier } from "../../../enclave/control/control-verifier.js";
import {
  ControlCommandSchema,
  DrainEnclaveSchema,
  EvictVaultSchema,
  GlobalTargetSchema,
  RejectionReason,
  SignedControlCommandSchema,
} from "../../../gen/vettid/control/v1/command_pb.js";
import {
  buildControlCommand,
  controlCommandSubject,
  controlKeyFromSeed,
  controlResultSubject,
  controlSignedMessage,
  generateControlKeyPem,
  loadControlKey,
  signControlCommand,
} from "./index.js";

/** RFC 8032 §7.1's vectors (test/vectors/crypto, copied from the shared vectors). */
const RFC = JSON.parse(
  await readFile(new URL("../../../test/vectors/crypto/rfc_vectors.json", import.meta.url), "utf8"),
) as {
  ed25519: {
    name: string;
    secret_key: string;
    public_key: string;
    message: string;
    signature: string;
  }[];
};

const hex = (value: string) => new Uint8Array(Buffer.from(value, "hex"));
const GUID = "0f6a7c52-1c1e-4e8b-9d3a-6a2f4b8c9d01";
const T0 = Date.parse("2026-11-23T10:00:00Z");

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "vettid-control-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("control keys", () => {
  it.each(RFC.ed25519.map((v) => [v.name, v] as const))(
    "derive the public key and sign as RFC 8032 says (%s)",
    (_name, vector) => {
      const key = controlKeyFromSeed("ops-1", hex(vector.secret_key));
      expect(Buffer.from(key.publicKey).toString("hex")).toBe(vector.public_key);
      expect(Buffer.from(key.sign(hex(vector.message))).toString("hex")).toBe(vector.signature);
    },
  );

  it("load from a PKCS#8 PEM file made by OpenSSL's key format (node:crypto)", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const path = join(directory, "openssl.pem");
    await writeFile(path, privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
    const key = await loadControlKey(path, "ops-1");
    const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
    expect(Buffer.from(key.publicKey).equals(raw)).toBe(true);
  });

  it("generate a PEM that loads back to the same public key", async () => {
    const { pem, publicKey } = generateControlKeyPem();
    const path = join(directory, "generated.pem");
    await writeFile(path, pem, { mode: 0o600 });
    expect((await loadControlKey(path, "ops-2")).publicKey).toEqual(publicKey);
  });

  it("refuse a key file others can read, a non-Ed25519 key, and bad key ids", async () => {
    const { pem } = generateControlKeyPem();
    const open = join(directory, "open.pem");
    await writeFile(open, pem);
    await chmod(open, 0o644);
    await expect(loadControlKey(open, "ops")).rejects.toThrow(/readable by others/);
    const ec = join(directory, "ec.pem");
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    await writeFile(ec, privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
    await expect(loadControlKey(ec, "ops")).rejects.toThrow(/not Ed25519/);
    const garbage = join(directory, "garbage.pem");
    await writeFile(garbage, "not a key", { mode: 0o600 });
    await expect(loadControlKey(garbage, "ops")).rejects.toThrow(/not a PEM private key/);
    expect(() => controlKeyFromSeed("has space", new Uint8Array(32))).toThrow(TypeError);
    expect(() => controlKeyFromSeed("ops", new Uint8Array(31))).toThrow(TypeError);
  });
});

describe("signed commands", () => {
  const key = controlKeyFromSeed("ops-1", hex(RFC.ed25519[0]?.secret_key ?? ""));
  const evict = {
    case: "evictVault" as const,
    value: create(EvictVaultSchema, { ownerGuid: GUID }),
  };

  it("carry the signed bytes, verify under node:crypto, and decode to the command", () => {
    const command = buildControlCommand({
      target: { kind: "user", ownerGuid: GUID },
      action: evict,
      issuer: "alice@ops",
      reason: "INC-42",
      nowMs: T0,
    });
    const signed = signControlCommand(command, key);
    expect(signed.keyId).toBe("ops-1");
    const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), key.publicKey]);
    const publicKey = createPublicKey({ key: spki, format: "der", type: "spki" });
    const message = controlSignedMessage(signed.command);
    expect(Buffer.from(message.subarray(0, 18)).toString()).toBe("vettid-control-v1\0");
    expect(nodeVerify(null, message, publicKey, signed.signature)).toBe(true);
    const decoded = fromBinary(ControlCommandSchema, signed.command);
    expect(decoded.commandId).toBe(command.commandId);
    expect(decoded.expiresAtMs - decoded.issuedAtMs).toBe(300_000n);
  });

  it("are accepted by the enclave's receiver code, which refuses a tampered one", () => {
    const verifier = createControlVerifier({
      keys: new Map([["ops-1", { publicKey: key.publicKey }]]),
      enclaveId: "enclave-1",
      now: () => T0 + 1_000,
    });
    const command = buildControlCommand({
      target: { kind: "global" },
      action: {
        case: "drainEnclave",
        value: create(DrainEnclaveSchema, { deadlineAtMs: BigInt(T0 + 60_000) }),
      },
      issuer: "alice@ops",
      nowMs: T0,
    });
    const signed = signControlCommand(command, key);
    const bytes = toBinary(SignedControlCommandSchema, signed);
    expect(verifier.verify(bytes, { kind: "global" }).ok).toBe(true);
    const tampered = signControlCommand(command, key);
    tampered.command = Uint8Array.of(...tampered.command, 0x28, 0x01);
    const verdict = verifier.verify(toBinary(SignedControlCommandSchema, tampered), {
      kind: "global",
    });
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toBe(RejectionReason.BAD_SIGNATURE);
  });

  it("refuse malformed targets, ids, lifetimes and mismatched members", () => {
    const base = { action: evict, issuer: "alice", nowMs: T0 };
    expect(() =>
      buildControlCommand({ ...base, target: { kind: "user", ownerGuid: "x" } }),
    ).toThrow(/owner guid/);
    expect(() =>
      buildControlCommand({
        ...base,
        target: { kind: "user", ownerGuid: "7d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6" },
      }),
    ).toThrow(/differs/);
    expect(() =>
      buildControlCommand({ ...base, target: { kind: "enclave", enclaveId: "a.b" } }),
    ).toThrow(/enclave id/);
    expect(() =>
      buildControlCommand({ ...base, target: { kind: "global" }, ttlMs: 3_600_001 }),
    ).toThrow(/ttl/);
    expect(() =>
      buildControlCommand({ ...base, target: { kind: "global" }, commandId: "ABC" }),
    ).toThrow(/UUID/);
    expect(() => buildControlCommand({ ...base, target: { kind: "global" }, issuer: "" })).toThrow(
      /issuer/,
    );
    expect(
      buildControlCommand({ ...base, target: { kind: "global" } }).target?.target.value,
    ).toEqual(create(GlobalTargetSchema));
  });

  it("go to the subjects command.proto names", () => {
    expect(controlCommandSubject({ kind: "global" })).toBe("Control.global.command");
    expect(controlCommandSubject({ kind: "enclave", enclaveId: "e-1" })).toBe(
      "Control.enclave.e-1.command",
    );
    expect(controlCommandSubject({ kind: "user", ownerGuid: GUID })).toBe(
      `Control.user.${GUID}.command`,
    );
    expect(controlResultSubject(GUID)).toBe(`Control.result.${GUID}`);
    expect(() => controlCommandSubject({ kind: "enclave", enclaveId: "a.>" })).toThrow(TypeError);
  });
});
