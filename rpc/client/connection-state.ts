import { Events, type NatsConnection } from "nats";

/**
 * Whether a NATS connection is up, and who to tell when it drops. nats.js does not fail pending
 * requests on a disconnect (they wait for their timeout) and drops what is published while
 * disconnected, so the transport watches the connection itself to fail calls at once.
 */
export interface ConnectionState {
  /** True between a `disconnect` and the following `reconnect`, and once the connection closed. */
  readonly down: boolean;
  /** Calls `listener` on every disconnect; returns a function that stops listening. */
  onDisconnect(listener: () => void): () => void;
  /**
   * Calls `listener` when the server refuses a publish for lack of permission (it says so
   * asynchronously, naming the subject); returns a function that stops listening.
   */
  onPublishDenied(listener: (subject: string) => void): () => void;
}

const states = new WeakMap<NatsConnection, ConnectionState>();

/** The shared state watcher of a connection (one status loop per connection). */
export function connectionState(connection: NatsConnection): ConnectionState {
  let state = states.get(connection);
  if (state === undefined) {
    state = watch(connection);
    states.set(connection, state);
  }
  return state;
}

/** The part of a nats.js status event that names the subject of a permissions violation. */
interface PermissionStatus {
  readonly permissionContext?: { readonly operation: string; readonly subject: string };
}

function watch(connection: NatsConnection): ConnectionState {
  const listeners = new Set<() => void>();
  const denied = new Set<(subject: string) => void>();
  let down = false;
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  void (async () => {
    for await (const status of connection.status()) {
      if (status.type === Events.Disconnect) {
        down = true;
        notify();
      } else if (status.type === Events.Reconnect) {
        down = false;
      } else if (status.type === Events.Error) {
        const context = (status as PermissionStatus).permissionContext;
        if (context?.operation === "publish") {
          for (const listener of [...denied]) listener(context.subject);
        }
      }
    }
  })().catch(() => {});
  void connection.closed().then(() => {
    down = true;
    notify();
  });
  return {
    get down() {
      return down || connection.isClosed();
    },
    onDisconnect(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onPublishDenied(listener) {
      denied.add(listener);
      return () => denied.delete(listener);
    },
  };
}
