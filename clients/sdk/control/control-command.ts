import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import {
  type ControlCommand,
  ControlCommandSchema,
  type ControlTarget,
  ControlTargetSchema,
  GlobalTargetSchema,
} from "../../../gen/vettid/control/v1/command_pb.js";

/**
 * How long a command stays valid when the operator gives no lifetime: 5 minutes. Long enough for
 * every receiver to get it over a slow link, short enough that a captured command is soon useless
 * (receivers also refuse a replayed id until it expires).
 */
export const DEFAULT_CONTROL_COMMAND_TTL_MS = 5 * 60_000;

/** Longest lifetime receivers accept: 1 hour (command.proto, `LIFETIME_TOO_LONG`). */
export const MAX_CONTROL_COMMAND_TTL_MS = 60 * 60_000;

/** Where a command goes: the whole fleet, one enclave, or the enclave hosting one member. */
export type ControlTargetSpec =
  | { readonly kind: "global" }
  | { readonly kind: "enclave"; readonly enclaveId: string }
  | { readonly kind: "user"; readonly ownerGuid: string };

/** The action of a command: one case of `ControlCommand.action`, as protobuf-es types it. */
export type ControlAction = Exclude<ControlCommand["action"], { case: undefined }>;

/** What {@link buildControlCommand} needs; the rest has defaults. */
export interface BuildControlCommandOptions {
  readonly target: ControlTargetSpec;
  readonly action: ControlAction;
  /** Who issues it (operator handle or email), for audit logs. Required, 1–128 characters. */
  readonly issuer: string;
  /** Ticket or incident reference, for audit logs. Default empty. */
  readonly reason?: string;
  /** Lifetime in ms, 1 ms to 1 hour. Default {@link DEFAULT_CONTROL_COMMAND_TTL_MS}. */
  readonly ttlMs?: number;
  /** Issue time, ms since the epoch. Default now. */
  readonly nowMs?: number;
  /** The command id, a lowercase RFC 4122 UUID. Default a random (v4) one. */
  readonly commandId?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ENCLAVE_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Builds a `ControlCommand`, checking what receivers would refuse: the id is a lowercase UUID, the
 * lifetime at most an hour, the target well formed, and a member action (evict, restart, revoke)
 * names the same member as a member target.
 *
 * @throws TypeError naming the field that is wrong.
 */
export function buildControlCommand(options: BuildControlCommandOptions): ControlCommand {
  const nowMs = options.nowMs ?? Date.now();
  const ttlMs = options.ttlMs ?? DEFAULT_CONTROL_COMMAND_TTL_MS;
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_CONTROL_COMMAND_TTL_MS) {
    throw new TypeError(`ttl must be 1 ms to 1 hour, got ${String(ttlMs)} ms`);
  }
  if (!Number.isSafeInteger(nowMs) || nowMs < 0)
    throw new TypeError("now must be ms since the epoch");
  const commandId = options.commandId ?? randomUUID();
  if (!UUID.test(commandId)) throw new TypeError("command id must be a lowercase RFC 4122 UUID");
  if (
    typeof options.issuer !== "string" ||
    options.issuer.length < 1 ||
    options.issuer.length > 128
  ) {
    throw new TypeError("issuer must be 1 to 128 characters (operator handle or email)");
  }
  const reason = options.reason ?? "";
  if (reason.length > 1024) throw new TypeError("reason must be at most 1024 characters");
  const target = controlTarget(options.target);
  checkActionTarget(options.action, options.target);
  return create(ControlCommandSchema, {
    commandId,
    issuedAtMs: BigInt(nowMs),
    expiresAtMs: BigInt(nowMs + ttlMs),
    issuer: options.issuer,
    reason,
    target,
    action: options.action,
  });
}

/** The schema's `ControlTarget` for a target. @throws TypeError for a malformed id or guid. */
export function controlTarget(spec: ControlTargetSpec): ControlTarget {
  switch (spec.kind) {
    case "global":
      return create(ControlTargetSchema, {
        target: { case: "global", value: create(GlobalTargetSchema) },
      });
    case "enclave":
      if (!ENCLAVE_ID.test(spec.enclaveId)) {
        throw new TypeError("enclave id must be 1 to 128 characters of [A-Za-z0-9_-]");
      }
      return create(ControlTargetSchema, { target: { case: "enclaveId", value: spec.enclaveId } });
    case "user":
      if (!UUID.test(spec.ownerGuid)) throw new TypeError("owner guid must be a lowercase UUID");
      return create(ControlTargetSchema, { target: { case: "ownerGuid", value: spec.ownerGuid } });
    default:
      throw new TypeError("target must be global, an enclave or a member");
  }
}

/** The subject a command for `spec` is published on (command.proto, `SignedControlCommand`). */
export function controlCommandSubject(spec: ControlTargetSpec): string {
  controlTarget(spec); // validates the id: it becomes a subject token
  switch (spec.kind) {
    case "global":
      return "Control.global.command";
    case "enclave":
      return `Control.enclave.${spec.enclaveId}.command`;
    case "user":
      return `Control.user.${spec.ownerGuid}.command`;
  }
}

/** The subject receivers report on (command.proto, `ControlCommandResult`). */
export function controlResultSubject(commandId: string): string {
  if (!UUID.test(commandId)) throw new TypeError("command id must be a lowercase RFC 4122 UUID");
  return `Control.result.${commandId}`;
}

function checkActionTarget(action: ControlAction, target: ControlTargetSpec): void {
  if (action === undefined || typeof action !== "object" || action.value === undefined) {
    throw new TypeError("an action is required");
  }
  if (
    action.case === "evictVault" ||
    action.case === "restartVault" ||
    action.case === "revokeMemberTokens"
  ) {
    const guid = action.value.ownerGuid;
    if (!UUID.test(guid))
      throw new TypeError(`${action.case}: owner guid must be a lowercase UUID`);
    if (target.kind === "user" && target.ownerGuid !== guid) {
      throw new TypeError(`${action.case}: owner guid differs from the member target`);
    }
  }
}
