export type {
  BuildControlCommandOptions,
  ControlAction,
  ControlTargetSpec,
} from "./control-command.js";
export {
  buildControlCommand,
  controlCommandSubject,
  controlResultSubject,
  controlTarget,
  DEFAULT_CONTROL_COMMAND_TTL_MS,
  MAX_CONTROL_COMMAND_TTL_MS,
} from "./control-command.js";
export type { ControlKey } from "./control-key.js";
export { controlKeyFromSeed, generateControlKeyPem, loadControlKey } from "./control-key.js";
export type { PublishControlCommandOptions } from "./publish-control-command.js";
export {
  DEFAULT_CONTROL_RESULT_WAIT_MS,
  publishControlCommand,
} from "./publish-control-command.js";
export {
  CONTROL_SIGNATURE_LABEL,
  controlSignedMessage,
  signControlCommand,
} from "./sign-control-command.js";
