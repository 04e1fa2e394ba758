import { type DescMessage, fromBinary, type MessageShape } from "@bufbuild/protobuf";

/** The outcome of decoding untrusted bytes: the message, or what was wrong with them. */
export type Decoded<T> =
  | { readonly ok: true; readonly message: T }
  | { readonly ok: false; readonly problem: string };

/**
 * Decodes signed payload bytes as `schema`, refusing bytes that do not parse and bytes with
 * fields this schema does not know (at any depth): a signed object must mean exactly what the
 * verifier reads from it. Never throws.
 */
export function decodeStrict<Desc extends DescMessage>(
  schema: Desc,
  bytes: Uint8Array,
  what: string,
): Decoded<MessageShape<Desc>> {
  if (!(bytes instanceof Uint8Array)) return { ok: false, problem: `${what} is not bytes` };
  let message: MessageShape<Desc>;
  try {
    message = fromBinary(schema, bytes, { readUnknownFields: true });
  } catch (error) {
    return {
      ok: false,
      problem: `${what} does not decode as ${schema.typeName}: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  if (hasUnknownFields(message)) {
    return { ok: false, problem: `${what} holds fields ${schema.typeName} does not define` };
  }
  return { ok: true, message };
}

function hasUnknownFields(value: unknown): boolean {
  if (value === null || typeof value !== "object" || value instanceof Uint8Array) return false;
  const unknown = (value as { $unknown?: unknown[] }).$unknown;
  if (Array.isArray(unknown) && unknown.length > 0) return true;
  for (const [key, field] of Object.entries(value)) {
    if (key === "$typeName" || key === "$unknown") continue;
    if (Array.isArray(field) ? field.some(hasUnknownFields) : hasUnknownFields(field)) return true;
  }
  return false;
}
