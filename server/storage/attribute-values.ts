import type { AttributeValue } from "@aws-sdk/client-dynamodb";

/** A DynamoDB item as the SDK's low-level client reads and writes it. */
export type Item = Record<string, AttributeValue>;

/** A string attribute. */
export function s(value: string): AttributeValue {
  return { S: value };
}

/** A number attribute (safe integers only: every number the backend stores is one). */
export function n(value: number | bigint): AttributeValue {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new RangeError(`number attribute must be a safe integer, got ${value}`);
  }
  return { N: value.toString(10) };
}

/** A binary attribute. */
export function b(value: Uint8Array): AttributeValue {
  return { B: value };
}

/** A boolean attribute. */
export function bool(value: boolean): AttributeValue {
  return { BOOL: value };
}

/**
 * Thrown when a stored item lacks an attribute or has one of another type: the table holds
 * something this code did not write, which no request can fix.
 */
export class ItemShapeError extends Error {
  override readonly name = "ItemShapeError";
}

function missing(name: string, type: string): ItemShapeError {
  return new ItemShapeError(`stored item has no ${type} attribute ${JSON.stringify(name)}`);
}

/** The string attribute `name`; throws {@link ItemShapeError} when absent. */
export function getS(item: Item, name: string): string {
  const value = item[name]?.S;
  if (value === undefined) throw missing(name, "string");
  return value;
}

/** The string attribute `name`, or undefined. */
export function optS(item: Item, name: string): string | undefined {
  return item[name]?.S;
}

/** The number attribute `name` as a safe integer; throws {@link ItemShapeError} when absent. */
export function getN(item: Item, name: string): number {
  const value = optN(item, name);
  if (value === undefined) throw missing(name, "number");
  return value;
}

/** The number attribute `name` as a safe integer, or undefined. */
export function optN(item: Item, name: string): number | undefined {
  const text = item[name]?.N;
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new ItemShapeError(`stored attribute ${JSON.stringify(name)} is not a safe integer`);
  }
  return value;
}

/** The binary attribute `name`; throws {@link ItemShapeError} when absent. */
export function getB(item: Item, name: string): Uint8Array {
  const value = item[name]?.B;
  if (value === undefined) throw missing(name, "binary");
  return new Uint8Array(value);
}

/** The binary attribute `name`, or undefined. */
export function optB(item: Item, name: string): Uint8Array | undefined {
  const value = item[name]?.B;
  return value === undefined ? undefined : new Uint8Array(value);
}

/** Seconds since the epoch for a time in ms: DynamoDB's TTL attributes are in seconds. */
export function ttlSeconds(ms: number): number {
  return Math.ceil(ms / 1000);
}
