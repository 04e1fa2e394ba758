import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { fromBinary, toJsonString } from "@bufbuild/protobuf";
import { type Msg, type NatsConnection, nuid, type Subscription } from "nats";
import {
  type ControlCommand,
  ControlCommandResultSchema,
  ControlCommandSchema,
  ControlCommandStatus,
  RejectionReason,
  RevocationReason,
} from "../../gen/vettid/control/v1/command_pb.js";
import { Party } from "../../gen/vettid/options/v1/options_pb.js";
import { describeError, type Logger, silentLogger } from "../logging/index.js";
import type { MemberTokenRevoker, RevocationScope } from "../member-credentials/index.js";
import { b, bool, n, s } from "../storage/attribute-values.js";
import type { ControlAuditTable } from "../storage/control-audit-table.js";
import {
  type ControlCommandCheck,
  checkControlCommand,
  type OperatorControlKeys,
} from "./control-command-check.js";

/**
 * What the worker subscribes to: every command subject and every result
 * (`docs/subjects.md`, Control). `Control.*.command` is `Control.global.command` (and anything
 * else three tokens long, recorded as a wrong subject).
 */
export const CONTROL_AUDIT_SUBJECTS = [
  "Control.*.command",
  "Control.enclave.*.command",
  "Control.user.*.command",
  "Control.result.*",
] as const;

/** Queue group of the audit workers: several instances record each message once. */
export const DEFAULT_CONTROL_AUDIT_QUEUE = "vettid-control-audit";

/**
 * Largest envelope kept verbatim in an audit entry: 64 KiB, far above any command (a PCR list
 * announcement is a few KiB) and well inside DynamoDB's 400 KB item limit.
 */
export const MAX_AUDITED_ENVELOPE_BYTES = 64 * 1024;

/** Longest free-text field kept (issuer, reason, detail): enough for a ticket reference. */
const MAX_TEXT = 1024;

/** A command id as control.proto defines it: a lowercase UUID. */
const COMMAND_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Options of {@link startControlAuditWorker}. */
export interface ControlAuditWorkerOptions {
  /** A backend user's connection (it may subscribe to the Control subjects). */
  readonly connection: NatsConnection;
  readonly audit: ControlAuditTable;
  /** The pinned operator keys commands are checked against. */
  readonly keys: OperatorControlKeys;
  /**
   * Applies accepted `RevokeMemberTokens` commands to the NATS account's revocation list. Without
   * it the worker only records them.
   */
  readonly revoker?: MemberTokenRevoker;
  /** Default {@link DEFAULT_CONTROL_AUDIT_QUEUE}. */
  readonly queueGroup?: string;
  /** Clock in ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  readonly logger?: Logger;
}

/** A running audit worker. */
export interface ControlAuditWorker {
  /** Resolves once every message received so far has been recorded (and acted on). */
  settled(): Promise<void>;
  /** Unsubscribes after the messages received so far are handled. */
  close(): Promise<void>;
}

/**
 * The backend's control audit trail: records every `Control.*.command` it sees (decoded,
 * signature-checked as receivers check it, or flagged) and every `Control.result.*` into the
 * `control-audit` table, one entry per message, and applies accepted `RevokeMemberTokens`
 * commands through `revoker`. Entries are keyed by command id (`command#<received>#<id>`,
 * `result#<received>#<id>`, `backend#revocation#<received>`); a command id seen twice is flagged
 * `replayed` and never acted on again. Messages are handled one at a time, in arrival order.
 */
export function startControlAuditWorker(options: ControlAuditWorkerOptions): ControlAuditWorker {
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const queue = options.queueGroup ?? DEFAULT_CONTROL_AUDIT_QUEUE;
  let chain: Promise<void> = Promise.resolve();
  const handle = (msg: Msg) => {
    chain = chain.then(async () => {
      try {
        if (msg.subject.startsWith("Control.result.")) await recordResult(msg);
        else await recordCommand(msg);
      } catch (error) {
        logger.error("control_audit.record_failed", {
          subject: msg.subject,
          error: describeError(error),
        });
      }
    });
  };
  const subscriptions: Subscription[] = CONTROL_AUDIT_SUBJECTS.map((subject) =>
    options.connection.subscribe(subject, {
      queue,
      callback: (error, msg) => {
        if (error !== null) {
          logger.error("control_audit.subscription_error", { subject, error: error.message });
          return;
        }
        handle(msg);
      },
    }),
  );

  async function recordCommand(msg: Msg): Promise<void> {
    const receivedAtMs = now();
    const check = checkControlCommand(msg.data, msg.subject, options.keys, receivedAtMs);
    const claimedId = check.command?.commandId ?? "";
    const commandId = COMMAND_ID.test(claimedId) ? claimedId : `unattributed-${nuid.next()}`;
    // Only a verified id can be "seen": an unverified copy must not burn the id of a real command.
    const fresh =
      check.signature === "verified" && COMMAND_ID.test(claimedId)
        ? await options.audit.markSeen(commandId, receivedAtMs)
        : true;
    const accepted = check.rejection === RejectionReason.UNSPECIFIED && fresh;
    const attributes: Record<string, AttributeValue> = {
      kind: s("command"),
      subject: s(msg.subject),
      received_at_ms: n(receivedAtMs),
      signature: s(check.signature),
      outcome: s(accepted ? "accepted" : "rejected"),
      ...(accepted
        ? {}
        : {
            rejection_reason: s(
              fresh ? RejectionReason[check.rejection] : RejectionReason[RejectionReason.REPLAYED],
            ),
          }),
      ...(check.detail === "" ? {} : { detail: s(check.detail) }),
      replayed: bool(!fresh),
      ...(check.envelope === undefined ? {} : { key_id: s(clip(check.envelope.keyId)) }),
      ...commandAttributes(check),
      envelope: b(msg.data.subarray(0, MAX_AUDITED_ENVELOPE_BYTES)),
      envelope_truncated: bool(msg.data.byteLength > MAX_AUDITED_ENVELOPE_BYTES),
    };
    await options.audit.record({
      commandId,
      entry: `command#${timeKey(receivedAtMs)}#${nuid.next()}`,
      attributes,
    });
    logger.info("control_audit.command", {
      commandId,
      subject: msg.subject,
      signature: check.signature,
      outcome: accepted ? "accepted" : "rejected",
    });
    if (accepted && check.command !== undefined) await act(check.command, commandId);
  }

  async function act(command: ControlCommand, commandId: string): Promise<void> {
    if (command.action.case !== "revokeMemberTokens" || options.revoker === undefined) return;
    const action = command.action.value;
    const entry = `backend#revocation#${timeKey(now())}`;
    const problem = revocationProblem(command);
    if (problem !== undefined) {
      await options.audit.record({
        commandId,
        entry,
        attributes: { kind: s("backend"), outcome: s("skipped"), detail: s(problem) },
      });
      return;
    }
    const scope: RevocationScope =
      action.scope.case === "all"
        ? { kind: "all", issuedAtOrBeforeMs: Number(command.issuedAtMs) }
        : { kind: "tokens", jwtIds: action.scope.value?.jwtIds ?? [] };
    try {
      const result = await (options.revoker as MemberTokenRevoker).revoke({
        ownerGuid: action.ownerGuid,
        scope,
        reason: action.revocationReason,
        commandId,
      });
      await options.audit.record({
        commandId,
        entry,
        attributes: {
          kind: s("backend"),
          outcome: s("applied"),
          owner_guid: s(action.ownerGuid),
          revoked_keys: n(result.revokedKeys.length),
          unknown_jwt_ids: n(result.unknownJwtIds.length),
          member_action: s(result.memberAction),
          account_updated: bool(result.accountUpdated),
        },
      });
    } catch (error) {
      logger.error("control_audit.revocation_failed", { commandId, error: describeError(error) });
      await options.audit.record({
        commandId,
        entry,
        attributes: {
          kind: s("backend"),
          outcome: s("failed"),
          owner_guid: s(action.ownerGuid),
          detail: s(clip(describeError(error))),
        },
      });
    }
  }

  async function recordResult(msg: Msg): Promise<void> {
    const receivedAtMs = now();
    const subjectId = msg.subject.slice("Control.result.".length);
    const commandId = COMMAND_ID.test(subjectId) ? subjectId : `unattributed-${nuid.next()}`;
    let attributes: Record<string, AttributeValue>;
    try {
      const result = fromBinary(ControlCommandResultSchema, msg.data);
      attributes = {
        kind: s("result"),
        subject: s(msg.subject),
        received_at_ms: n(receivedAtMs),
        decoded: bool(true),
        command_id_matches: bool(result.commandId === subjectId),
        executor_id: s(clip(result.executorId)),
        executor: s(Party[result.executor] ?? String(result.executor)),
        status: s(ControlCommandStatus[result.status] ?? String(result.status)),
        ...(result.rejectionReason === RejectionReason.UNSPECIFIED
          ? {}
          : {
              rejection_reason: s(
                RejectionReason[result.rejectionReason] ?? String(result.rejectionReason),
              ),
            }),
        ...(result.detail === "" ? {} : { detail: s(clip(result.detail)) }),
        reported_at_ms: n(safeMs(result.reportedAtMs)),
      };
    } catch {
      attributes = {
        kind: s("result"),
        subject: s(msg.subject),
        received_at_ms: n(receivedAtMs),
        decoded: bool(false),
        raw: b(msg.data.subarray(0, MAX_AUDITED_ENVELOPE_BYTES)),
      };
    }
    await options.audit.record({
      commandId,
      entry: `result#${timeKey(receivedAtMs)}#${nuid.next()}`,
      attributes,
    });
  }

  return {
    async settled() {
      await options.connection.flush();
      let seen: Promise<void>;
      do {
        seen = chain;
        await seen;
      } while (seen !== chain);
    },
    async close() {
      for (const subscription of subscriptions) subscription.unsubscribe();
      await chain;
    },
  };
}

/** Why a verified, fresh RevokeMemberTokens cannot be applied, or undefined. */
function revocationProblem(command: ControlCommand): string | undefined {
  if (command.action.case !== "revokeMemberTokens") return "not a revocation";
  const action = command.action.value;
  if (!COMMAND_ID.test(action.ownerGuid)) return "owner_guid is not a member guid";
  const target = command.target?.target;
  if (target?.case === "ownerGuid" && target.value !== action.ownerGuid) {
    return "owner_guid differs from the command's target member";
  }
  if (action.revocationReason === RevocationReason.UNSPECIFIED) return "no revocation_reason";
  if (action.scope.case === undefined) return "no scope (token_ids or all)";
  if (action.scope.case === "tokenIds") {
    const ids = action.scope.value.jwtIds;
    if (
      ids.length === 0 ||
      ids.length > 1000 ||
      ids.some((id) => id.length === 0 || id.length > 128)
    ) {
      return "token_ids must list 1 to 1000 ids of 1 to 128 characters";
    }
  }
  return undefined;
}

/** The decoded command's fields worth reading in the audit trail (without trust, when unverified). */
function commandAttributes(check: ControlCommandCheck): Record<string, AttributeValue> {
  const command = check.command;
  if (command === undefined) return { decoded: bool(false) };
  let json: string;
  try {
    json = toJsonString(ControlCommandSchema, command);
  } catch {
    json = "";
  }
  const target = command.target?.target;
  return {
    decoded: bool(true),
    ...(json === "" ? {} : { command_json: s(json.slice(0, MAX_AUDITED_ENVELOPE_BYTES)) }),
    ...(command.issuer === "" ? {} : { issuer: s(clip(command.issuer)) }),
    ...(command.reason === "" ? {} : { reason: s(clip(command.reason)) }),
    action: s(command.action.case ?? "none"),
    target: s(
      target === undefined
        ? "none"
        : target.case === "global"
          ? "global"
          : `${target.case}:${clip(String(target.value), 128)}`,
    ),
    issued_at_ms: n(safeMs(command.issuedAtMs)),
    expires_at_ms: n(safeMs(command.expiresAtMs)),
  };
}

function clip(text: string, max = MAX_TEXT): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function safeMs(value: bigint): number {
  const ms = Number(value);
  return Number.isSafeInteger(ms) ? ms : 0;
}

/** A fixed-width time for sort keys, so entries order by time. */
function timeKey(ms: number): string {
  return String(ms).padStart(15, "0");
}
