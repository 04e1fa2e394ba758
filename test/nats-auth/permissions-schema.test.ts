/**
 * The permission sets of server/nats-auth checked against the schema (the source of
 * docs/subjects.md), both ways: every subject the schema gives a party is allowed to the NATS user
 * that carries that party, and every allowed subject is there for a reason the schema states.
 * A schema change that needs a permission change fails here until the permissions are reviewed.
 */
import { describe, expect, it } from "vitest";
import { Party } from "../../gen/vettid/options/v1/options_pb.js";
import {
  eventRoute,
  type SubjectTemplate,
  serviceRoute,
  subscriptionSubject,
} from "../../rpc/subject/index.js";
import { loadSchemaCatalog } from "../../scripts/lib/schema-catalog.js";
import {
  MEMBER_PERMISSIONS,
  memberPermissions,
  type NatsPermissionSet,
  servicePermissions,
} from "../../server/nats-auth/index.js";

const SELF = "self-guid";
const OTHER = "other-guid";
const ENCLAVE = "enclave-1";
/** Stand-ins for the RPC layer's ids: a server instance, a reply inbox, a call. */
const INSTANCE = "instance";
const INBOX = "inbox";
const CALL = "1";

/** The NATS users, and which schema parties each one carries. */
type Holder = "member" | "parent" | "backend" | "operator";
const HOLDERS: Readonly<Record<Holder, NatsPermissionSet>> = {
  member: memberPermissions(SELF),
  parent: servicePermissions("parent", { enclaveId: ENCLAVE }),
  backend: servicePermissions("backend"),
  operator: servicePermissions("operator"),
};

function holderOf(party: Party): Holder | undefined {
  switch (party) {
    case Party.APP:
      return "member";
    // Vaults and the supervisor reach NATS only through the parent; a "connection" is the other
    // member's vault.
    case Party.VAULT:
    case Party.PARENT:
    case Party.SUPERVISOR:
    case Party.CONNECTION:
      return "parent";
    case Party.BACKEND:
      return "backend";
    case Party.OPERATOR:
      return "operator";
    default:
      return undefined; // ANYONE: no NATS user of ours (HTTP, public)
  }
}

/**
 * Values of a template's variables as one holder uses them: a member's own GUID in OwnerSpace and
 * as the caller, another member's in MessageSpace (its connections' spaces); the parent's own
 * enclave id; anything else for shared services (`wildcard` gives `*` where they subscribe).
 */
function valuesFor(
  holder: Holder,
  template: SubjectTemplate,
  wildcard: boolean,
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of template.variables) {
    if (holder === "member" && name === "caller_guid") values[name] = SELF;
    else if (holder === "member" && name === "owner_guid") {
      values[name] = template.source.startsWith("MessageSpace.") ? OTHER : SELF;
    } else if (holder === "parent" && name === "enclave_id") values[name] = ENCLAVE;
    else if (!wildcard) values[name] = OTHER;
  }
  return values;
}

interface Need {
  readonly holder: Holder;
  readonly op: "publish" | "subscribe";
  readonly subject: string;
  readonly why: string;
}

const catalog = await loadSchemaCatalog();
const needs: Need[] = [];
const need = (holder: Holder | undefined, op: Need["op"], subject: string, why: string) => {
  if (holder !== undefined) needs.push({ holder, op, subject, why });
};

for (const service of catalog.services) {
  const route = serviceRoute(service);
  if (route === undefined) continue;
  const name = service.typeName;
  const streaming = service.methods.some((m) => m.methodKind !== "unary");
  // The server: first messages (sealed subject or per method), later frames, cancellations.
  const server = holderOf(route.server);
  if (server !== undefined) {
    const base = subscriptionSubject(
      route.sealedSubject ?? route.subject,
      valuesFor(server, route.subject, true),
    );
    const first = route.sealed ? base : `${base}.*`;
    need(server, "subscribe", first, `${name} served`);
    need(server, "subscribe", `${first}.${INSTANCE}.*`, `${name} later frames`);
    need(server, "subscribe", `${first}.cancel.*`, `${name} cancellations`);
    need(server, "subscribe", "$SRV.PING", `${name} discovery`);
    const reply =
      route.replyPrefix === undefined
        ? "_INBOX"
        : subscriptionSubject(route.replyPrefix, valuesFor(server, route.replyPrefix, false));
    need(server, "publish", `${reply}.${INBOX}.${CALL}`, `${name} replies`);
  }
  // The callers: the call (sealed subject, or each method), cancellation, later frames; replies.
  for (const caller of route.callers.map(holderOf)) {
    if (caller === undefined) continue;
    const template = route.sealedSubject ?? route.subject;
    const base = subscriptionSubject(template, valuesFor(caller, template, false));
    const targets = route.sealed ? [base] : service.methods.map((m) => `${base}.${m.name}`);
    for (const target of targets) {
      need(caller, "publish", target, `${name} call`);
      need(caller, "publish", `${target}.cancel.${CALL}`, `${name} cancel`);
      if (streaming) need(caller, "publish", `${target}.${INSTANCE}.${CALL}`, `${name} frames`);
    }
    const reply =
      route.replyPrefix === undefined
        ? "_INBOX"
        : subscriptionSubject(route.replyPrefix, valuesFor(caller, route.replyPrefix, false));
    need(caller, "subscribe", `${reply}.${INBOX}.*`, `${name} replies received`);
  }
}
for (const message of catalog.messages) {
  const route = eventRoute(message);
  if (route === undefined) continue;
  for (const template of route.subjects) {
    for (const publisher of route.publishers.map(holderOf)) {
      if (publisher === undefined) continue;
      const subject = subscriptionSubject(template, valuesFor(publisher, template, false));
      need(publisher, "publish", subject, `${message.typeName} published`);
    }
    for (const subscriber of route.subscribers.map(holderOf)) {
      if (subscriber === undefined) continue;
      const subject = subscriptionSubject(template, valuesFor(subscriber, template, true));
      need(subscriber, "subscribe", subject, `${message.typeName} received`);
    }
  }
}
// Not in the schema: the NATS services protocol (`nats micro ls`) the RPC layer answers.
need("operator", "publish", "$SRV.PING", "operators list services");
// Not in the schema: the backend's control audit trail (server/control-audit) listens to every
// command and result, and applies accepted RevokeMemberTokens to the account's revocation list.
for (const subject of [
  "Control.global.command",
  `Control.enclave.${ENCLAVE}.command`,
  `Control.user.${OTHER}.command`,
  `Control.result.${CALL}`,
]) {
  need("backend", "subscribe", subject, "control audit trail");
}

/**
 * Whether NATS allow-pattern `pattern` covers `subject` (itself possibly a wildcard subscription):
 * the subset rule nats-server applies to publish and subscribe permissions.
 */
function covers(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length || s[i] === ">") return false;
    if (p[i] !== "*" && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

describe("the subject matcher used here", () => {
  it("follows NATS wildcard rules", () => {
    expect(covers("a.>", "a.b.c")).toBe(true);
    expect(covers("a.>", "a")).toBe(false);
    expect(covers("a.*.c", "a.*.c")).toBe(true);
    expect(covers("a.b.c", "a.*.c")).toBe(false);
    expect(covers("a.*", "a.b.c")).toBe(false);
    expect(covers("a.*.>", "a.b.>")).toBe(true);
    expect(covers("a.b.>", "a.>")).toBe(false);
  });
});

describe.each(Object.keys(HOLDERS) as Holder[])("%s permissions against the schema", (holder) => {
  const set = HOLDERS[holder];
  const mine = needs.filter((n) => n.holder === holder);

  it("allow everything the schema gives the parties this user carries", () => {
    expect(mine.length).toBeGreaterThan(0);
    const missing = mine
      .filter(
        (n) =>
          !(n.op === "publish" ? set.publish : set.subscribe).some((p) => covers(p, n.subject)),
      )
      .map((n) => `${n.op} ${n.subject} (${n.why})`);
    expect(missing).toEqual([]);
  });

  it("allow nothing the schema gives no reason for", () => {
    const unjustified = [
      ...set.publish
        .filter((p) => !mine.some((n) => n.op === "publish" && covers(p, n.subject)))
        .map((p) => `publish ${p}`),
      ...set.subscribe
        .filter((p) => !mine.some((n) => n.op === "subscribe" && covers(p, n.subject)))
        .map((p) => `subscribe ${p}`),
    ];
    expect(unjustified).toEqual([]);
  });
});

describe("member permissions", () => {
  it("never allow another member's OwnerSpace nor anything wider than one member", () => {
    const set = memberPermissions(SELF);
    for (const subject of [
      `OwnerSpace.${OTHER}.forVault.sealed`,
      `OwnerSpace.${OTHER}.forApp.rpc.x.1`,
      "OwnerSpace.*.forVault.sealed",
      "Control.global.command",
      "Backend.votes.SubmitVotes",
      "_INBOX.x.1",
    ]) {
      expect(
        set.publish.some((p) => covers(p, subject)),
        `publish ${subject}`,
      ).toBe(false);
    }
    for (const subject of [
      `OwnerSpace.${OTHER}.forApp.>`,
      `OwnerSpace.${OTHER}.eventTypes`,
      "OwnerSpace.*.forApp.>",
      `MessageSpace.${SELF}.forOwner.>`,
      "_INBOX.>",
      ">",
    ]) {
      expect(
        set.subscribe.some((p) => covers(p, subject)),
        `subscribe ${subject}`,
      ).toBe(false);
    }
  });

  it("bind every OwnerSpace subject to the member's own GUID", () => {
    for (const subject of [...MEMBER_PERMISSIONS.publish, ...MEMBER_PERMISSIONS.subscribe]) {
      if (subject.startsWith("OwnerSpace.")) expect(subject.split(".")[1]).toBe("{owner_guid}");
    }
  });
});

describe("backend permissions", () => {
  it("never let the backend publish as a member or read a member's replies", () => {
    const set = servicePermissions("backend");
    for (const subject of [
      `OwnerSpace.${SELF}.forVault.sealed`,
      `OwnerSpace.${SELF}.forVault.secrets.GetSecret`,
    ]) {
      expect(
        set.publish.some((p) => covers(p, subject)),
        `publish ${subject}`,
      ).toBe(false);
    }
    expect(set.subscribe.some((p) => covers(p, `OwnerSpace.${SELF}.forApp.rpc.x.1`))).toBe(false);
    // It hears control commands for the audit trail but can never issue or answer one.
    expect(set.subscribe.some((p) => covers(p, "Control.user.*.command"))).toBe(true);
    for (const subject of [
      "Control.global.command",
      `Control.user.${SELF}.command`,
      "Control.result.1",
    ]) {
      expect(
        set.publish.some((p) => covers(p, subject)),
        `publish ${subject}`,
      ).toBe(false);
    }
    // Enrollment reaches the enclave through its own sealed provisioning subject instead.
    expect(set.publish.some((p) => covers(p, "Enclave.sealed"))).toBe(true);
  });
});
