import { Code, ConnectError } from "@connectrpc/connect";

/** A lowercase RFC 9562 UUID (versions 1–8, variant 10xx), as every id of the API is written. */
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** `invalid_argument` naming the field, as every validation failure of the API is reported. */
export function invalidArgument(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

/** A value quoted for an error message, cut to 64 characters so a flood stays short. */
export function quoted(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

/** Checks a lowercase UUID string field (`enrollment_session_id`, `owner_guid`, …). */
export function requireUuid(field: string, value: string): string {
  if (value === "") throw invalidArgument(`${field} is required`);
  if (!UUID_PATTERN.test(value)) {
    throw invalidArgument(
      `${field} must be a lowercase UUID (8-4-4-4-12 hex digits), got ${quoted(value)}`,
    );
  }
  return value;
}

/** Checks a bytes field's length: exactly `length`, or within `min`..`max`. */
export function requireBytes(
  field: string,
  value: Uint8Array,
  limits: { readonly length: number } | { readonly min: number; readonly max: number },
): Uint8Array {
  if ("length" in limits) {
    if (value.byteLength !== limits.length) {
      throw invalidArgument(
        `${field} must be exactly ${limits.length} bytes, got ${value.byteLength}`,
      );
    }
    return value;
  }
  if (value.byteLength < limits.min || value.byteLength > limits.max) {
    throw invalidArgument(
      value.byteLength === 0 && limits.min > 0
        ? `${field} is required`
        : `${field} must be ${limits.min} to ${limits.max} bytes, got ${value.byteLength}`,
    );
  }
  return value;
}

/** Checks that a message field is present. */
export function requirePresent<T>(field: string, value: T | undefined): T {
  if (value === undefined) throw invalidArgument(`${field} is required`);
  return value;
}
