export type {
  ArrivalScope,
  ControlVerdict,
  ControlVerifier,
  ControlVerifierOptions,
  OperatorKey,
} from "./control-verifier.js";
export {
  CONTROL_CLOCK_SKEW_MS,
  CONTROL_MAX_LIFETIME_MS,
  CONTROL_SIGNATURE_LABEL,
  createControlVerifier,
  DEFAULT_CONTROL_REPLAY_CACHE,
} from "./control-verifier.js";
export { readOperatorKeys } from "./operator-keys-file.js";
