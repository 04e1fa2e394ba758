export type {
  ControlAuditWorker,
  ControlAuditWorkerOptions,
} from "./control-audit-worker.js";
export {
  CONTROL_AUDIT_SUBJECTS,
  DEFAULT_CONTROL_AUDIT_QUEUE,
  MAX_AUDITED_ENVELOPE_BYTES,
  startControlAuditWorker,
} from "./control-audit-worker.js";
export type {
  ControlCommandCheck,
  OperatorControlKeys,
  SignatureStatus,
} from "./control-command-check.js";
export { checkControlCommand, controlSignedMessage } from "./control-command-check.js";
