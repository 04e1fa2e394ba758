import { encode } from "cbor2";
import type { SealContext } from "./nsm.js";
import { NsmError } from "./nsm-error.js";

/**
 * Checks that `context` is a usable {@link SealContext}: a plain object with at least one entry,
 * whose keys are non-empty strings and whose values are strings.
 *
 * @throws NsmError `invalid_argument` naming what was wrong.
 */
export function assertSealContext(context: unknown): asserts context is SealContext {
  if (typeof context !== "object" || context === null || Array.isArray(context)) {
    throw new NsmError(
      "invalid_argument",
      `seal context must be an object of string pairs such as { owner_guid: "…" }, got ${describe(context)}`,
    );
  }
  const entries = Object.entries(context);
  if (entries.length === 0) {
    throw new NsmError(
      "invalid_argument",
      'seal context is empty: name at least one pair (for example { owner_guid: "…" }) so the blob is bound to something',
    );
  }
  for (const [key, value] of entries) {
    if (key.length === 0) {
      throw new NsmError("invalid_argument", "seal context has an empty key");
    }
    if (typeof value !== "string") {
      throw new NsmError(
        "invalid_argument",
        `seal context value "${key}" must be a string, got ${describe(value)}`,
      );
    }
  }
}

/**
 * The canonical bytes of a seal context: the CBOR array of its `[key, value]` pairs sorted by key
 * (JavaScript string order). The same pairs in any order give the same bytes, so they can be bound
 * as associated data.
 */
export function encodeSealContext(context: SealContext): Uint8Array {
  assertSealContext(context);
  const pairs = Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return encode(pairs);
}

/** The keys of a context, for error messages: values may identify a member, keys never do. */
export function sealContextKeys(context: SealContext): string {
  return `{${Object.keys(context).sort().join(", ")}}`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}
