import { Code, ConnectError } from "@connectrpc/connect";
import { type Msg, type NatsConnection, nuid, type Subscription } from "nats";

/**
 * One subscription that receives the replies of many calls: `<prefix>.<nuid>.*`, the last token
 * being the call id. Members may only receive under their own `OwnerSpace.{guid}.forApp`, so the
 * prefix comes from the service's route; other callers use `_INBOX`.
 */
export class ReplyInbox {
  private readonly calls = new Map<
    string,
    { onMessage: (msg: Msg) => void; onError: (error: ConnectError) => void }
  >();
  private readonly subscription: Subscription;
  /** Set once the server refused the subscription; every call through this inbox fails with it. */
  failure: ConnectError | undefined;
  private readonly base: string;
  private counter = 0;

  constructor(connection: NatsConnection, prefix: string) {
    this.base = `${prefix}.${nuid.next()}`;
    this.subscription = connection.subscribe(`${this.base}.*`, {
      callback: (error, msg) => {
        if (error !== null) {
          // NATS refused the subscription: these replies can never arrive.
          this.failure = new ConnectError(
            `NATS does not allow receiving replies under ${prefix}: ${error.message}`,
            Code.PermissionDenied,
          );
          for (const call of [...this.calls.values()]) call.onError(this.failure);
          return;
        }
        const callId = msg.subject.slice(this.base.length + 1);
        this.calls.get(callId)?.onMessage(msg);
      },
    });
  }

  /**
   * Reserves a call id and its reply subject; messages for it go to `onMessage`, and a refused
   * subscription to `onError`, until `close`.
   */
  open(
    onMessage: (msg: Msg) => void,
    onError: (error: ConnectError) => void,
  ): { callId: string; reply: string; close: () => void } {
    const callId = (this.counter++).toString(36);
    this.calls.set(callId, { onMessage, onError });
    return { callId, reply: `${this.base}.${callId}`, close: () => this.calls.delete(callId) };
  }

  /** Stops receiving; pending calls are the caller's to fail. */
  close(): void {
    this.subscription.unsubscribe();
    this.calls.clear();
  }
}

const inboxes = new WeakMap<NatsConnection, Map<string, ReplyInbox>>();

/** The shared inbox of a connection for one reply prefix. */
export function replyInbox(connection: NatsConnection, prefix: string): ReplyInbox {
  let byPrefix = inboxes.get(connection);
  if (byPrefix === undefined) {
    byPrefix = new Map();
    inboxes.set(connection, byPrefix);
  }
  let inbox = byPrefix.get(prefix);
  if (inbox === undefined || inbox.failure !== undefined) {
    inbox = new ReplyInbox(connection, prefix);
    byPrefix.set(prefix, inbox);
  }
  return inbox;
}
