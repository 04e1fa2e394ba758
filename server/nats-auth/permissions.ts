import { create } from "@bufbuild/protobuf";
import type { Permissions } from "@nats-io/jwt";
import {
  type NatsPermissions,
  NatsPermissionsSchema,
} from "../../gen/vettid/enrollment/v1/nats_credentials_pb.js";

/**
 * What a NATS user may publish to and subscribe to: NATS subjects, wildcards allowed. Everything
 * not listed is denied (NATS treats an allow list as exhaustive).
 */
export interface NatsPermissionSet {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
}

/** The set as a JWT's `pub`/`sub` claims. */
export function toJwtPermissions(set: NatsPermissionSet): Permissions {
  return { pub: { allow: [...set.publish] }, sub: { allow: [...set.subscribe] } };
}

/** The set as the informational summary handed to apps (`vettid.enrollment.v1.NatsPermissions`). */
export function toNatsPermissionsMessage(set: NatsPermissionSet): NatsPermissions {
  return create(NatsPermissionsSchema, {
    publishAllow: [...set.publish],
    subscribeAllow: [...set.subscribe],
  });
}

/** Replaces `{name}` placeholders in every subject of a set (values must already be checked). */
export function fillPermissionSet(
  set: NatsPermissionSet,
  values: Readonly<Record<string, string>>,
): NatsPermissionSet {
  const fill = (subject: string) =>
    subject.replace(/\{([a-z_]+)\}/g, (whole, name: string) => values[name] ?? whole);
  return { publish: set.publish.map(fill), subscribe: set.subscribe.map(fill) };
}
