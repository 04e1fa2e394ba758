import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { type Item, n, s } from "./attribute-values.js";
import { type DynamoContext, TableAccess } from "./table-access.js";

/** Sort key of the marker that says a command id has been seen (replay detection). */
const FIRST_SEEN = "first-seen";

/**
 * Most audit entries read back for one command: a command has one entry per copy seen, one result
 * per receiver and status, and the backend's own action; a thousand covers a large fleet.
 */
export const MAX_AUDIT_ENTRIES_LISTED = 1_000;

/** One audit entry: the command id it belongs to, its sort key, and its attributes. */
export interface ControlAuditEntry {
  readonly commandId: string;
  /** `command#…`, `result#…` or `backend#…`, ordered by time within each kind. */
  readonly entry: string;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
}

/** The control audit table (`TABLES.controlAudit`). */
export interface ControlAuditTable {
  /** Stores one entry (entries are never overwritten: each key is unique). */
  record(entry: ControlAuditEntry): Promise<void>;
  /**
   * Marks `commandId` as seen at `atMs`; false when it had been seen before (the same id again is
   * a replay, or a copy delivered twice).
   */
  markSeen(commandId: string, atMs: number): Promise<boolean>;
  /** Every entry of a command, in sort-key order. */
  list(commandId: string): Promise<ControlAuditEntry[]>;
}

/** The control audit table of `context`. */
export function createControlAuditTable(context: DynamoContext): ControlAuditTable {
  const table = new TableAccess(context, "controlAudit");
  return {
    async record(entry) {
      await table.put(
        { ...entry.attributes, command_id: s(entry.commandId), entry: s(entry.entry) },
        { expression: "attribute_not_exists(command_id)" },
      );
    },
    async markSeen(commandId, atMs) {
      return await table.put(
        { command_id: s(commandId), entry: s(FIRST_SEEN), seen_at_ms: n(atMs) },
        { expression: "attribute_not_exists(command_id)" },
      );
    },
    async list(commandId) {
      const items = await table.query(
        { expression: "command_id = :id", values: { ":id": s(commandId) } },
        { limit: MAX_AUDIT_ENTRIES_LISTED },
      );
      return items.map((item: Item) => {
        const { command_id, entry, ...attributes } = item;
        return { commandId: command_id?.S ?? commandId, entry: entry?.S ?? "", attributes };
      });
    },
  };
}
