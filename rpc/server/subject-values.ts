import { createContextKey } from "@connectrpc/connect";

/**
 * The subject variables of the call being handled (for example `{ owner_guid: "…" }`), read from
 * the subject the request arrived on. Handlers get them with
 * `context.values.get(subjectValuesKey)`: NATS permissions decide who may publish to a member's
 * subject, so this is the caller's identity as far as the server can know it.
 */
export const subjectValuesKey = createContextKey<Readonly<Record<string, string>>>(
  {},
  { description: "subject variables of the NATS call" },
);
