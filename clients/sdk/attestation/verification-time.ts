/** A verification time: ms since the epoch, or a Date. */
export type Clock = number | Date;

/**
 * `value` as ms since the epoch, `Date.now()` when undefined.
 *
 * @throws TypeError naming `name` when it is not a valid time at or after the epoch.
 */
export function resolveTime(value: Clock | undefined, name: string): number {
  const ms = value === undefined ? Date.now() : value instanceof Date ? value.getTime() : value;
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
    throw new TypeError(`${name} must be a Date or ms since the epoch, got ${String(value)}`);
  }
  return ms;
}
