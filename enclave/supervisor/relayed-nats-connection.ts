import { create } from "@bufbuild/protobuf";
import {
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  headers as natsHeaders,
  type PublishOptions,
  type Status,
  type Subscription,
  type SubscriptionOptions,
} from "nats";
import type { DeliverNatsMessage } from "../../gen/vettid/vsock/v1/nats_pb.js";
import { NatsHeaderSchema, PublishNatsMessageSchema } from "../../gen/vettid/vsock/v1/nats_pb.js";
import { createFrame, type VsockConnection } from "../vsock/index.js";

/**
 * The NATS connection of code inside the enclave, which has no network: the parent subscribes on
 * the real NATS and delivers messages as `DeliverNatsMessage` frames; publishing sends
 * `PublishNatsMessage` frames for the parent to publish. It implements the part of nats.js's
 * `NatsConnection` that the RPC server (`serveNats`) uses, so the very same server code runs
 * inside the enclave: subscribe with a callback, publish with headers, flush, status.
 *
 * Subscriptions here are local filters over what the parent delivers (queue groups are the
 * parent's: it subscribes in a queue group on the real server).
 */
export interface RelayedNatsConnection {
  /** The connection as serveNats wants it. */
  readonly connection: NatsConnection;
  /** Hands a delivered message to the matching local subscriptions; false if none matched. */
  deliver(message: DeliverNatsMessage): boolean;
  /** Replaces the vsock link (the parent reconnected). */
  attach(link: VsockConnection | undefined): void;
}

/** Largest payload the parent's NATS server takes; serveNats sizes requests by it. */
export const DEFAULT_RELAYED_MAX_PAYLOAD = 1024 * 1024;

interface LocalSubscription {
  readonly tokens: readonly string[];
  readonly callback: NonNullable<SubscriptionOptions["callback"]>;
  closed: boolean;
}

export function createRelayedNatsConnection(
  options: { maxPayload?: number; onProblem?: (problem: string) => void } = {},
): RelayedNatsConnection {
  let link: VsockConnection | undefined;
  const subscriptions = new Set<LocalSubscription>();
  const onProblem =
    options.onProblem ?? ((problem: string) => console.warn(`[relayed-nats] ${problem}`));

  const publish = (subject: string, data?: Uint8Array, publishOptions?: PublishOptions) => {
    const current = link;
    if (current === undefined) {
      onProblem(`no parent link: dropped a message to ${subject.slice(0, 120)}`);
      return;
    }
    const headerList: { name: string; value: string }[] = [];
    const hdrs = publishOptions?.headers;
    if (hdrs !== undefined) {
      for (const [name, values] of hdrs) {
        for (const value of values) headerList.push({ name, value });
      }
    }
    const frame = createFrame({
      case: "publishNatsMessage",
      value: create(PublishNatsMessageSchema, {
        subject,
        reply: publishOptions?.reply ?? "",
        headers: headerList.map((h) => create(NatsHeaderSchema, h)),
        data: data ?? new Uint8Array(),
      }),
    });
    current
      .send(frame)
      .catch((error: unknown) =>
        onProblem(`publish to ${subject.slice(0, 120)} failed: ${String(error)}`),
      );
  };

  const connection = {
    info: { max_payload: options.maxPayload ?? DEFAULT_RELAYED_MAX_PAYLOAD },
    subscribe(subject: string, subscriptionOptions?: SubscriptionOptions): Subscription {
      const callback = subscriptionOptions?.callback;
      if (callback === undefined) throw new Error("relayed subscriptions need a callback");
      const local: LocalSubscription = { tokens: subject.split("."), callback, closed: false };
      subscriptions.add(local);
      return {
        getSubject: () => subject,
        unsubscribe: () => {
          local.closed = true;
          subscriptions.delete(local);
        },
        isClosed: () => local.closed,
      } as unknown as Subscription;
    },
    publish,
    async flush() {},
    async *status(): AsyncIterable<Status> {},
    // The link to the parent comes and goes; the connection itself never closes.
    closed: () => new Promise<void>(() => {}),
    isClosed: () => false,
  } as unknown as NatsConnection;

  return {
    connection,
    attach(next) {
      link = next;
    },
    deliver(message) {
      const hdrs: MsgHdrs | undefined = message.headers.length === 0 ? undefined : natsHeaders();
      for (const header of message.headers) hdrs?.append(header.name, header.value);
      const msg = {
        subject: message.subject,
        reply: message.reply === "" ? undefined : message.reply,
        headers: hdrs,
        data: message.data,
        sid: 0,
        respond(data?: Uint8Array, opts?: PublishOptions) {
          if (message.reply === "") return false;
          publish(message.reply, data, opts);
          return true;
        },
      } as unknown as Msg;
      const tokens = message.subject.split(".");
      let matched = false;
      for (const subscription of subscriptions) {
        if (!subjectMatches(subscription.tokens, tokens)) continue;
        matched = true;
        subscription.callback(null, msg);
      }
      return matched;
    },
  };
}

/** NATS wildcard matching: `*` one token, `>` one or more trailing tokens. */
export function subjectMatches(pattern: readonly string[], subject: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const token = pattern[i];
    if (token === ">") return subject.length > i;
    if (i >= subject.length) return false;
    if (token !== "*" && token !== subject[i]) return false;
  }
  return pattern.length === subject.length;
}
