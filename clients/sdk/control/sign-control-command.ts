import { create, toBinary } from "@bufbuild/protobuf";
import {
  type ControlCommand,
  ControlCommandSchema,
  type SignedControlCommand,
  SignedControlCommandSchema,
} from "../../../gen/vettid/control/v1/command_pb.js";
import type { ControlKey } from "./control-key.js";

/** Domain label of control-command signatures (command.proto, `SignedControlCommand`). */
export const CONTROL_SIGNATURE_LABEL = "vettid-control-v1";

const LABEL = new TextEncoder().encode(CONTROL_SIGNATURE_LABEL);

/** The bytes an operator signs: UTF-8 "vettid-control-v1", one 0x00 byte, the command's bytes. */
export function controlSignedMessage(commandBytes: Uint8Array): Uint8Array {
  const message = new Uint8Array(LABEL.length + 1 + commandBytes.length);
  message.set(LABEL, 0);
  message.set(commandBytes, LABEL.length + 1);
  return message;
}

/**
 * Signs a command: serialises it once, signs those bytes (Ed25519 over
 * {@link controlSignedMessage}) and carries the same bytes in the envelope, so receivers verify
 * exactly what was signed and never re-serialise.
 */
export function signControlCommand(command: ControlCommand, key: ControlKey): SignedControlCommand {
  const bytes = toBinary(ControlCommandSchema, command);
  return create(SignedControlCommandSchema, {
    command: bytes,
    signature: key.sign(controlSignedMessage(bytes)),
    keyId: key.keyId,
  });
}
