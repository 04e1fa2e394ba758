import { fromBinary } from "@bufbuild/protobuf";
import { ed25519 } from "@noble/curves/ed25519.js";
import {
  CONTROL_CLOCK_SKEW_MS,
  CONTROL_MAX_LIFETIME_MS,
  CONTROL_SIGNATURE_LABEL,
  type OperatorKey,
} from "../../enclave/control/index.js";
import {
  type ControlCommand,
  ControlCommandSchema,
  RejectionReason,
  type SignedControlCommand,
  SignedControlCommandSchema,
} from "../../gen/vettid/control/v1/command_pb.js";

/**
 * The pinned operator control keys by key id, with the actions each may order: the same set, and
 * the same file (`enclave/control/operator-keys-file.ts`), as the parents and supervisors.
 */
export type OperatorControlKeys = ReadonlyMap<string, OperatorKey>;

/** How the signature of a command stood. */
export type SignatureStatus = "verified" | "unknown_key" | "bad_signature" | "not_checked";

/** The outcome of checking one command as a receiver would (control.proto steps 1–5). */
export interface ControlCommandCheck {
  readonly signature: SignatureStatus;
  /** `UNSPECIFIED` when every check passed. */
  readonly rejection: RejectionReason;
  /** What failed, for the audit trail. */
  readonly detail: string;
  /** The envelope, when it decoded. */
  readonly envelope?: SignedControlCommand;
  /**
   * The command, when its bytes decoded: trusted only when `signature` is `verified`; decoded
   * without trust otherwise, to file the audit entry under its id.
   */
  readonly command?: ControlCommand;
}

/** The message an operator signs: label || 0x00 || command bytes. */
export function controlSignedMessage(command: Uint8Array): Uint8Array {
  const label = new TextEncoder().encode(CONTROL_SIGNATURE_LABEL);
  const message = new Uint8Array(label.length + 1 + command.length);
  message.set(label, 0);
  message.set(command, label.length + 1);
  return message;
}

/**
 * Checks a `SignedControlCommand` that arrived on `subject` in control.proto's order: the key is
 * pinned (UNKNOWN_KEY), the Ed25519 signature (strict RFC 8032) verifies over the carried bytes
 * (BAD_SIGNATURE), the bytes decode (MALFORMED), the times (EXPIRED, NOT_YET_VALID,
 * LIFETIME_TOO_LONG), the target matches the subject (WRONG_TARGET), the key may order the action
 * (KEY_NOT_AUTHORIZED). Unlike a receiver it accepts every enclave's subject (it audits them all),
 * and replay is the caller's (a shared marker in the audit table). Never throws.
 */
export function checkControlCommand(
  payload: Uint8Array,
  subject: string,
  keys: OperatorControlKeys,
  nowMs: number,
): ControlCommandCheck {
  let envelope: SignedControlCommand;
  try {
    envelope = fromBinary(SignedControlCommandSchema, payload);
  } catch {
    return {
      signature: "not_checked",
      rejection: RejectionReason.MALFORMED,
      detail: "the message is not a SignedControlCommand",
    };
  }
  const untrusted = decodeCommand(envelope.command);
  const withCommand = untrusted === undefined ? {} : { command: untrusted };
  const key = keys.get(envelope.keyId);
  if (key === undefined) {
    return {
      signature: "unknown_key",
      rejection: RejectionReason.UNKNOWN_KEY,
      detail: `key_id ${JSON.stringify(envelope.keyId.slice(0, 64))} is not a pinned operator key`,
      envelope,
      ...withCommand,
    };
  }
  let valid = false;
  try {
    valid =
      envelope.signature.byteLength === 64 &&
      ed25519.verify(envelope.signature, controlSignedMessage(envelope.command), key.publicKey, {
        zip215: false,
      });
  } catch {
    valid = false;
  }
  if (!valid) {
    return {
      signature: "bad_signature",
      rejection: RejectionReason.BAD_SIGNATURE,
      detail: `the signature does not verify under key ${envelope.keyId}`,
      envelope,
      ...withCommand,
    };
  }
  const command = untrusted;
  const verified = { signature: "verified" as const, envelope };
  if (command === undefined || command.commandId === "" || command.action.case === undefined) {
    return {
      ...verified,
      rejection: RejectionReason.MALFORMED,
      detail: "the signed bytes are not a ControlCommand with an id and an action",
      ...withCommand,
    };
  }
  const issued = Number(command.issuedAtMs);
  const expires = Number(command.expiresAtMs);
  const timeProblem =
    expires <= nowMs
      ? ([RejectionReason.EXPIRED, "expires_at_ms has passed"] as const)
      : issued > nowMs + CONTROL_CLOCK_SKEW_MS
        ? ([RejectionReason.NOT_YET_VALID, "issued_at_ms is in the future"] as const)
        : expires - issued > CONTROL_MAX_LIFETIME_MS
          ? ([RejectionReason.LIFETIME_TOO_LONG, "the lifetime exceeds 1 hour"] as const)
          : undefined;
  if (timeProblem !== undefined) {
    return { ...verified, command, rejection: timeProblem[0], detail: timeProblem[1] };
  }
  const targetProblem = wrongTarget(command, subject);
  if (targetProblem !== undefined) {
    return { ...verified, command, rejection: RejectionReason.WRONG_TARGET, detail: targetProblem };
  }
  if (key.actions !== undefined && !key.actions.includes(command.action.case)) {
    return {
      ...verified,
      command,
      rejection: RejectionReason.KEY_NOT_AUTHORIZED,
      detail: `key ${envelope.keyId} may not order ${command.action.case}`,
    };
  }
  return { ...verified, command, rejection: RejectionReason.UNSPECIFIED, detail: "" };
}

function decodeCommand(bytes: Uint8Array): ControlCommand | undefined {
  try {
    return fromBinary(ControlCommandSchema, bytes);
  } catch {
    return undefined;
  }
}

/** Why the command's target does not match its subject, or undefined when it does. */
function wrongTarget(command: ControlCommand, subject: string): string | undefined {
  const tokens = subject.split(".");
  const target = command.target?.target;
  if (tokens.length === 3 && tokens[1] === "global" && tokens[2] === "command") {
    return target?.case === "global" ? undefined : "a non-global target on Control.global.command";
  }
  if (tokens.length === 4 && tokens[1] === "enclave" && tokens[3] === "command") {
    return target?.case === "enclaveId" && target.value === tokens[2]
      ? undefined
      : "the target enclave is not the subject's";
  }
  if (tokens.length === 4 && tokens[1] === "user" && tokens[3] === "command") {
    return target?.case === "ownerGuid" && target.value === tokens[2]
      ? undefined
      : "the target member is not the subject's";
  }
  return `${subject} is not a control command subject`;
}
