import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorCode, type MsgHdrs, type NatsConnection, NatsError } from "nats";
import { HeaderName } from "./headers.js";

/** Sets `Nats-Service-Error` / `Nats-Service-Error-Code` as the NATS services protocol defines. */
export function setNatsServiceError(headers: MsgHdrs, status: number, message: string): void {
  // Header values may not hold CR or LF; keep the description on one line.
  headers.set(HeaderName.natsServiceError, message.replace(/[\r\n]+/g, " ").slice(0, 256));
  headers.set(HeaderName.natsServiceErrorCode, String(status));
}

/**
 * Turns what the `nats` client throws into the Connect code a caller can act on: a payload over
 * the server's `max_payload` is `resource_exhausted`; a lost or closed connection and no
 * responders are `unavailable` (retryable); a NATS timeout is `deadline_exceeded`.
 */
export function connectErrorFromNats(error: unknown, what: string): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof NatsError) {
    switch (error.code) {
      case ErrorCode.MaxPayloadExceeded:
        return new ConnectError(
          `${what} exceeds the NATS server's max_payload`,
          Code.ResourceExhausted,
          undefined,
          undefined,
          error,
        );
      case ErrorCode.NoResponders:
        return noResponders(what);
      case ErrorCode.Timeout:
        return new ConnectError(
          `${what}: NATS timeout`,
          Code.DeadlineExceeded,
          undefined,
          undefined,
          error,
        );
      case ErrorCode.ConnectionClosed:
      case ErrorCode.ConnectionDraining:
      case ErrorCode.Disconnect:
      case ErrorCode.ConnectionRefused:
      case ErrorCode.ConnectionTimeout:
        return new ConnectError(
          `${what}: NATS connection unavailable (${error.code})`,
          Code.Unavailable,
          undefined,
          undefined,
          error,
        );
      default:
        return new ConnectError(
          `${what}: NATS error ${error.code}`,
          Code.Unavailable,
          undefined,
          undefined,
          error,
        );
    }
  }
  return ConnectError.from(error, Code.Internal);
}

/** The error for a request nobody is subscribed to: NATS answers at once, so do we. */
export function noResponders(what: string): ConnectError {
  return new ConnectError(
    `${what}: no server is serving this subject (NATS no responders)`,
    Code.Unavailable,
  );
}

/** A NATS status message (503 no responders) as the server sends it: empty, with a status code. */
export function isNoRespondersStatus(data: Uint8Array, headers: MsgHdrs | undefined): boolean {
  return data.length === 0 && headers?.code === 503;
}

/**
 * The error for a message that could not be published: one over the server's `max_payload` is
 * `resource_exhausted` naming both sizes; anything else is what {@link connectErrorFromNats} says.
 */
export function sendFailure(
  error: unknown,
  what: "request" | "response",
  size: number,
  connection: NatsConnection,
): ConnectError {
  if (error instanceof NatsError && error.code === ErrorCode.MaxPayloadExceeded) {
    return new ConnectError(
      `${what} of ${size} bytes exceeds the NATS server's max_payload of ${connection.info?.max_payload ?? "?"} bytes`,
      Code.ResourceExhausted,
    );
  }
  return connectErrorFromNats(error, `sending the ${what}`);
}
