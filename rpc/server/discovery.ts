import type { NatsConnection, Subscription } from "nats";
import type { EndpointStats } from "./endpoint-stats.js";

/** One endpoint as `nats micro info` lists it. */
export interface DiscoveryEndpoint {
  readonly name: string;
  readonly subject: string;
  readonly queueGroup: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly stats: EndpointStats;
}

/** Identity of one server instance in the NATS services protocol. */
export interface DiscoveryIdentity {
  readonly name: string;
  readonly id: string;
  readonly version: string;
  readonly description: string;
  readonly metadata: Readonly<Record<string, string>>;
}

const VERBS = ["PING", "INFO", "STATS"] as const;
type Verb = (typeof VERBS)[number];

/**
 * Answers the NATS services protocol (`$SRV.PING|INFO|STATS`, also `.<name>` and `.<name>.<id>`)
 * so that `nats micro ls/info/stats` list this server with its endpoints and per-endpoint stats.
 *
 * Written here rather than taken from `nc.services.add()`: nats.js measures processing time and
 * counts errors only for synchronous handlers, and every Connect call is asynchronous, so its
 * stats would always read zero. The payloads follow the `io.nats.micro.v1` schemas.
 */
export function answerDiscovery(
  connection: NatsConnection,
  identity: DiscoveryIdentity,
  endpoints: readonly DiscoveryEndpoint[],
): Subscription[] {
  const started = new Date().toISOString();
  const subscriptions: Subscription[] = [];
  for (const verb of VERBS) {
    for (const subject of [
      `$SRV.${verb}`,
      `$SRV.${verb}.${identity.name}`,
      `$SRV.${verb}.${identity.name}.${identity.id}`,
    ]) {
      subscriptions.push(
        connection.subscribe(subject, {
          callback: (error, msg) => {
            if (error !== null) return;
            msg.respond(new TextEncoder().encode(JSON.stringify(payload(verb))));
          },
        }),
      );
    }
  }
  return subscriptions;

  function payload(verb: Verb): Record<string, unknown> {
    const base = {
      name: identity.name,
      id: identity.id,
      version: identity.version,
      metadata: identity.metadata,
    };
    switch (verb) {
      case "PING":
        return { type: "io.nats.micro.v1.ping_response", ...base };
      case "INFO":
        return {
          type: "io.nats.micro.v1.info_response",
          ...base,
          description: identity.description,
          endpoints: endpoints.map((e) => ({
            name: e.name,
            subject: e.subject,
            queue_group: e.queueGroup,
            metadata: e.metadata,
          })),
        };
      case "STATS":
        return {
          type: "io.nats.micro.v1.stats_response",
          ...base,
          started,
          endpoints: endpoints.map((e) => ({
            name: e.name,
            subject: e.subject,
            queue_group: e.queueGroup,
            ...e.stats.snapshot(),
          })),
        };
    }
  }
}
