import { resolveMaxFrameBytes } from "./frame-codec.js";
import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_INBOUND_HIGH_WATER_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from "./limits.js";
import type { VsockError } from "./vsock-error.js";

/** Options of a vsock connection. All are optional. */
export interface VsockConnectionOptions {
  /** See {@link DEFAULT_MAX_FRAME_BYTES}: 1 to 16 MiB. */
  readonly maxFrameBytes?: number;
  /** Timeout of requests that give none; see {@link DEFAULT_REQUEST_TIMEOUT_MS}. `0` disables it. */
  readonly requestTimeoutMs?: number;
  /** See {@link DEFAULT_INBOUND_HIGH_WATER_BYTES}. */
  readonly inboundHighWaterBytes?: number;
  /** See {@link DEFAULT_CLOSE_TIMEOUT_MS}. */
  readonly closeTimeoutMs?: number;
  /**
   * Told about problems that do not close the connection, for logs: frames skipped as malformed
   * (answered with an ErrorFrame where possible). What closes the connection arrives in `closed`.
   * Default: ignored.
   */
  readonly onError?: (error: VsockError) => void;
}

/** {@link VsockConnectionOptions} with every default filled in. */
export interface ResolvedConnectionOptions {
  readonly maxFrameBytes: number;
  readonly requestTimeoutMs: number;
  readonly inboundHighWaterBytes: number;
  readonly closeTimeoutMs: number;
  readonly onError: (error: VsockError) => void;
}

/** Checks the options (a RangeError names the one that is wrong) and fills in the defaults. */
export function resolveConnectionOptions(
  options: VsockConnectionOptions = {},
): ResolvedConnectionOptions {
  return {
    maxFrameBytes: resolveMaxFrameBytes(options.maxFrameBytes),
    requestTimeoutMs: milliseconds(
      "requestTimeoutMs",
      options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    ),
    inboundHighWaterBytes: positive(
      "inboundHighWaterBytes",
      options.inboundHighWaterBytes ?? DEFAULT_INBOUND_HIGH_WATER_BYTES,
    ),
    closeTimeoutMs: milliseconds(
      "closeTimeoutMs",
      options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
    ),
    onError: options.onError ?? (() => {}),
  };
}

/** The longest delay `setTimeout` honours; longer ones fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/** Checks a duration option: an integer number of milliseconds that a timer can wait. */
export function milliseconds(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_TIMER_MS) {
    throw new RangeError(`${name} must be an integer from 0 to ${MAX_TIMER_MS} ms, got ${value}`);
  }
  return value;
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be an integer of 1 or more, got ${value}`);
  }
  return value;
}
