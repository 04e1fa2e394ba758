import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  buildControlCommand,
  controlKeyFromSeed,
  signControlCommand,
} from "../../clients/sdk/control/index.js";
import {
  DrainEnclaveSchema,
  EvictVaultSchema,
  RejectionReason,
  SignedControlCommandSchema,
} from "../../gen/vettid/control/v1/command_pb.js";
import { checkControlCommand, type OperatorControlKeys } from "./control-command-check.js";

const NOW = Date.UTC(2026, 4, 1, 12);
const key = controlKeyFromSeed("ops-1", new Uint8Array(32).fill(1));
const limited = controlKeyFromSeed("ops-evict", new Uint8Array(32).fill(2));
const KEYS: OperatorControlKeys = new Map([
  ["ops-1", { publicKey: key.publicKey }],
  ["ops-evict", { publicKey: limited.publicKey, actions: ["evictVault"] }],
]);
const GUID = "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b";

function evict(nowMs = NOW, signer = key, target: "user" | "global" = "user") {
  const command = buildControlCommand({
    target: target === "user" ? { kind: "user", ownerGuid: GUID } : { kind: "global" },
    issuer: "ops@vettid.test",
    nowMs,
    action: { case: "evictVault", value: create(EvictVaultSchema, { ownerGuid: GUID }) },
  });
  return toBinary(SignedControlCommandSchema, signControlCommand(command, signer));
}

describe("checking control commands as receivers do", () => {
  it("accepts a signed, current command on its own subject", () => {
    const check = checkControlCommand(evict(), `Control.user.${GUID}.command`, KEYS, NOW);
    expect(check.signature).toBe("verified");
    expect(check.rejection).toBe(RejectionReason.UNSPECIFIED);
    expect(check.command?.action.case).toBe("evictVault");
  });

  it("names each failure in control.proto's order", () => {
    const subject = `Control.user.${GUID}.command`;
    const cases: [Uint8Array, string, number, RejectionReason, string][] = [
      [new Uint8Array([0xff, 0xff]), subject, NOW, RejectionReason.MALFORMED, "not_checked"],
      [
        evict(NOW, controlKeyFromSeed("nobody", new Uint8Array(32).fill(3))),
        subject,
        NOW,
        RejectionReason.UNKNOWN_KEY,
        "unknown_key",
      ],
      [
        evict(NOW, controlKeyFromSeed("ops-1", new Uint8Array(32).fill(4))),
        subject,
        NOW,
        RejectionReason.BAD_SIGNATURE,
        "bad_signature",
      ],
      [evict(NOW - 10 * 60_000), subject, NOW, RejectionReason.EXPIRED, "verified"],
      [evict(NOW + 2 * 60_000), subject, NOW, RejectionReason.NOT_YET_VALID, "verified"],
      [evict(), "Control.global.command", NOW, RejectionReason.WRONG_TARGET, "verified"],
      [
        evict(),
        `Control.user.${crypto.randomUUID()}.command`,
        NOW,
        RejectionReason.WRONG_TARGET,
        "verified",
      ],
      [
        evict(NOW, key, "global"),
        "Control.enclave.e1.command",
        NOW,
        RejectionReason.WRONG_TARGET,
        "verified",
      ],
    ];
    for (const [payload, on, at, rejection, signature] of cases) {
      const check = checkControlCommand(payload, on, KEYS, at);
      expect([RejectionReason[check.rejection], check.signature]).toEqual([
        RejectionReason[rejection],
        signature,
      ]);
      expect(check.detail).not.toBe("");
    }
  });

  it("decodes an unverified command only to file it, flagged", () => {
    const forged = evict(NOW, controlKeyFromSeed("ops-1", new Uint8Array(32).fill(9)));
    const check = checkControlCommand(forged, `Control.user.${GUID}.command`, KEYS, NOW);
    expect(check.signature).toBe("bad_signature");
    expect(check.command?.commandId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("refuses a lifetime over an hour and a key not authorised for the action", () => {
    const long = buildControlCommand({
      target: { kind: "global" },
      issuer: "ops",
      nowMs: NOW,
      ttlMs: 60 * 60_000,
      action: { case: "drainEnclave", value: create(DrainEnclaveSchema, {}) },
    });
    long.expiresAtMs += 1n;
    const tooLong = checkControlCommand(
      toBinary(SignedControlCommandSchema, signControlCommand(long, key)),
      "Control.global.command",
      KEYS,
      NOW,
    );
    expect(tooLong.rejection).toBe(RejectionReason.LIFETIME_TOO_LONG);
    const drain = buildControlCommand({
      target: { kind: "global" },
      issuer: "ops",
      nowMs: NOW,
      action: { case: "drainEnclave", value: create(DrainEnclaveSchema, {}) },
    });
    const notAllowed = checkControlCommand(
      toBinary(SignedControlCommandSchema, signControlCommand(drain, limited)),
      "Control.global.command",
      KEYS,
      NOW,
    );
    expect(notAllowed.rejection).toBe(RejectionReason.KEY_NOT_AUTHORIZED);
    const allowed = checkControlCommand(
      evict(NOW, limited),
      `Control.user.${GUID}.command`,
      KEYS,
      NOW,
    );
    expect(allowed.rejection).toBe(RejectionReason.UNSPECIFIED);
  });
});
