import { fromBinary } from "@bufbuild/protobuf";
import { ed25519 } from "@noble/curves/ed25519.js";
import { LRUCache } from "lru-cache";
import {
  type ControlCommand,
  ControlCommandSchema,
  RejectionReason,
  type SignedControlCommand,
  SignedControlCommandSchema,
} from "../../gen/vettid/control/v1/command_pb.js";

/** Domain label of control-command signatures (command.proto). */
export const CONTROL_SIGNATURE_LABEL = "vettid-control-v1";
/** Clock skew tolerated on `issued_at_ms`: 60 s (command.proto). */
export const CONTROL_CLOCK_SKEW_MS = 60_000;
/** Longest validity window a command may carry: 1 hour (command.proto). */
export const CONTROL_MAX_LIFETIME_MS = 60 * 60 * 1000;
/** Command ids remembered for replay refusal; beyond it the oldest are forgotten early. */
export const DEFAULT_CONTROL_REPLAY_CACHE = 100_000;

const encoder = new TextEncoder();

/** One pinned operator key and the actions it may order. */
export interface OperatorKey {
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** Action cases (`"evictVault"`, …) it may order; undefined = all. */
  readonly actions?: readonly NonNullable<ControlCommand["action"]["case"]>[];
}

/** Where a command arrived: which targets it may carry there. */
export type ArrivalScope =
  | { readonly kind: "global" }
  | { readonly kind: "enclave"; readonly enclaveId: string }
  | { readonly kind: "user"; readonly ownerGuid: string };

/** The verdict on one signed command. */
export type ControlVerdict =
  | { readonly ok: true; readonly command: ControlCommand }
  | {
      readonly ok: false;
      readonly reason: RejectionReason;
      readonly detail: string;
      /** Decoded without trust, only to address the result; undefined if it does not decode. */
      readonly commandId?: string;
    };

/** Options of {@link createControlVerifier}. */
export interface ControlVerifierOptions {
  /** Pinned operator keys by key id. */
  readonly keys: ReadonlyMap<string, OperatorKey>;
  /** This receiver's enclave id (the `enclave_id` target it obeys). */
  readonly enclaveId: string;
  readonly now?: () => number;
  readonly replayCacheSize?: number;
}

/** Checks signed control commands in the order command.proto prescribes. */
export interface ControlVerifier {
  verify(payload: Uint8Array, arrival: ArrivalScope): ControlVerdict;
}

export function createControlVerifier(options: ControlVerifierOptions): ControlVerifier {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const seen = new LRUCache<string, true>({
    max: options.replayCacheSize ?? DEFAULT_CONTROL_REPLAY_CACHE,
  });
  const reject = (reason: RejectionReason, detail: string, commandId?: string): ControlVerdict => ({
    ok: false,
    reason,
    detail,
    ...(commandId === undefined ? {} : { commandId }),
  });
  return {
    verify(payload, arrival) {
      let signed: SignedControlCommand;
      try {
        signed = fromBinary(SignedControlCommandSchema, payload);
      } catch {
        return reject(RejectionReason.MALFORMED, "not a SignedControlCommand");
      }
      const untrustedId = peekCommandId(signed.command);
      const key = options.keys.get(signed.keyId);
      if (key === undefined) {
        return reject(
          RejectionReason.UNKNOWN_KEY,
          `unknown key id ${JSON.stringify(signed.keyId.slice(0, 64))}`,
          untrustedId,
        );
      }
      const message = new Uint8Array(CONTROL_SIGNATURE_LABEL.length + 1 + signed.command.length);
      message.set(encoder.encode(CONTROL_SIGNATURE_LABEL), 0);
      message.set(signed.command, CONTROL_SIGNATURE_LABEL.length + 1);
      let valid = false;
      try {
        valid =
          signed.signature.length === 64 &&
          ed25519.verify(signed.signature, message, key.publicKey, { zip215: false });
      } catch {
        valid = false;
      }
      if (!valid)
        return reject(RejectionReason.BAD_SIGNATURE, "signature does not verify", untrustedId);
      let command: ControlCommand;
      try {
        command = fromBinary(ControlCommandSchema, signed.command);
      } catch {
        return reject(RejectionReason.MALFORMED, "signed bytes are not a ControlCommand");
      }
      const id = command.commandId;
      if (
        id === "" ||
        id.length > 64 ||
        command.target?.target.case === undefined ||
        command.action.case === undefined
      ) {
        return reject(
          RejectionReason.MALFORMED,
          "command_id, target and action are required",
          id || undefined,
        );
      }
      const issued = Number(command.issuedAtMs);
      const expires = Number(command.expiresAtMs);
      const at = now();
      if (expires <= at) return reject(RejectionReason.EXPIRED, `expired at ${expires}`, id);
      if (issued > at + CONTROL_CLOCK_SKEW_MS)
        return reject(RejectionReason.NOT_YET_VALID, `issued in the future (${issued})`, id);
      if (expires - issued > CONTROL_MAX_LIFETIME_MS) {
        return reject(RejectionReason.LIFETIME_TOO_LONG, "validity window is over 1 hour", id);
      }
      const target = command.target.target;
      const fits =
        (arrival.kind === "global" && target.case === "global") ||
        (arrival.kind === "enclave" &&
          target.case === "enclaveId" &&
          target.value === arrival.enclaveId &&
          target.value === options.enclaveId) ||
        (arrival.kind === "user" &&
          target.case === "ownerGuid" &&
          target.value === arrival.ownerGuid);
      if (!fits)
        return reject(
          RejectionReason.WRONG_TARGET,
          "the target does not match the subject it arrived on",
          id,
        );
      if (seen.has(id) || issued < startedAt - CONTROL_CLOCK_SKEW_MS) {
        return reject(
          RejectionReason.REPLAYED,
          seen.has(id) ? "command id already seen" : "issued before this receiver started",
          id,
        );
      }
      seen.set(id, true, { ttl: Math.max(1, expires - at + CONTROL_CLOCK_SKEW_MS) });
      if (key.actions !== undefined && !key.actions.includes(command.action.case)) {
        return reject(
          RejectionReason.KEY_NOT_AUTHORIZED,
          `key may not order ${command.action.case}`,
          id,
        );
      }
      return { ok: true, command };
    },
  };
}

function peekCommandId(bytes: Uint8Array): string | undefined {
  try {
    const id = fromBinary(ControlCommandSchema, bytes).commandId;
    return /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}
