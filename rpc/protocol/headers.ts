import { type MsgHdrs, headers as natsHeaders } from "nats";

/**
 * Header names of the Connect-over-NATS protocol (docs/protocol.md, "Headers"). All lower case:
 * NATS header names are case-sensitive, and the protocol fixes their case so that no peer has to
 * guess. Connect's own headers (content-type, connect-timeout-ms, …) travel unchanged beside them.
 */
export const HeaderName = {
  /** Protocol version of the frame; absent means version 1. */
  version: "vettid-rpc",
  /** Kind of a streaming frame (see {@link FrameKind}); absent on both messages of a unary call. */
  frame: "vettid-frame",
  /** Sequence number of a streaming frame in its direction, from 0. */
  seq: "vettid-seq",
  /** HTTP-equivalent status of the response, on the first response frame. */
  status: "vettid-status",
  /** Subject the client sends its further frames of a streaming call to, chosen by the server. */
  continueAt: "vettid-continue",
  /** On `cancel` frames: why the sender gave up (a Connect code name). */
  reason: "vettid-reason",
  /** "1" on every message whose payload is sealed (docs/protocol.md, "Sealed calls"). */
  sealed: "vettid-sealed",
  /** Standard NATS service error description (read by `nats micro` tooling). */
  natsServiceError: "Nats-Service-Error",
  /** Standard NATS service error code (the HTTP-equivalent status as a decimal string). */
  natsServiceErrorCode: "Nats-Service-Error-Code",
} as const;

/** The kinds of streaming frames. Unary calls carry no frame header at all. */
export const FrameKind = {
  /** Client's first frame of a streaming call (may also end the request stream with `end`). */
  open: "open",
  /** Client's first frame that is also its last (server-streaming calls). */
  openEnd: "open-end",
  /** Server's answer to `open`: the call is accepted; `vettid-continue` names the call's subject. */
  ack: "ack",
  /** A chunk of the request or response body. */
  data: "data",
  /** The sender's last frame: no more body follows (the payload may be empty). */
  end: "end",
  /** The sender abandons the call; the peer stops work and sends nothing more. */
  cancel: "cancel",
  /** Keeps an idle stream alive; carries the sequence number of the sender's last data frame. */
  ping: "ping",
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

const FRAME_KINDS: ReadonlySet<string> = new Set(Object.values(FrameKind));

/** True when `value` is a frame kind this version of the protocol knows. */
export function isFrameKind(value: string): value is FrameKind {
  return FRAME_KINDS.has(value);
}

/** Protocol headers are ours; they never reach the Connect layer as request or response headers. */
function isProtocolHeader(name: string): boolean {
  return name.startsWith("vettid-") || name.startsWith("Nats-Service-Error");
}

/** Copies fetch-style `Headers` (as Connect produces them) into a NATS header block. */
export function toNatsHeaders(source: Headers, into: MsgHdrs = natsHeaders()): MsgHdrs {
  source.forEach((value, name) => {
    // Connect's Headers are lower case already; NATS refuses CR/LF in values, which Headers forbids too.
    into.append(name, value);
  });
  return into;
}

/** Header lines as sealed content carries them. */
export function headerLines(source: Headers | undefined): { name: string; value: string }[] {
  const lines: { name: string; value: string }[] = [];
  source?.forEach((value, name) => {
    lines.push({ name, value });
  });
  return lines;
}

/** Fetch-style `Headers` from the header lines of sealed content. */
export function fromHeaderLines(lines: readonly { name: string; value: string }[]): Headers {
  const out = new Headers();
  for (const { name, value } of lines) out.append(name, value);
  return out;
}

/** Copies a NATS header block into fetch-style `Headers`, leaving out the protocol's own headers. */
export function fromNatsHeaders(source: MsgHdrs | undefined): Headers {
  const out = new Headers();
  if (source === undefined) return out;
  for (const name of source.keys()) {
    if (isProtocolHeader(name)) continue;
    for (const value of source.values(name)) out.append(name, value);
  }
  return out;
}

/** Reads one header exactly as the protocol spells it; undefined when absent or empty. */
export function readHeader(source: MsgHdrs | undefined, name: string): string | undefined {
  if (source === undefined) return undefined;
  const value = source.get(name);
  return value === "" ? undefined : value;
}
