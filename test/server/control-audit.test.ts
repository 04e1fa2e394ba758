/**
 * The control audit trail and member token revocation, against a real nats-server: an operator
 * signs and publishes control commands with the SDK (as `vettid control` does); the backend's
 * worker records every command and result in the control-audit table (dynalite) and applies an
 * accepted RevokeMemberTokens: the account JWT is re-signed, stored and pushed, and the member's
 * live connection ends at once.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { createUser } from "@nats-io/nkeys";
import { connect, jwtAuthenticator, type NatsConnection } from "nats";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  buildControlCommand,
  type ControlTargetSpec,
  controlCommandSubject,
  controlKeyFromSeed,
  signControlCommand,
} from "../../clients/sdk/control/index.js";
import {
  AllTokensSchema,
  ControlCommandResultSchema,
  ControlCommandStatus,
  EvictVaultSchema,
  RevocationReason,
  RevokeMemberTokensSchema,
  SignedControlCommandSchema,
  TokenIdsSchema,
} from "../../gen/vettid/control/v1/command_pb.js";
import { DeviceProofPurpose } from "../../gen/vettid/enrollment/v1/device_pb.js";
import { Party } from "../../gen/vettid/options/v1/options_pb.js";
import { isUserJwtRevoked } from "../../server/nats-auth/index.js";
import {
  type ControlAuditEntry,
  createControlAuditTable,
  createMembersTable,
  createNatsAccountsTable,
} from "../../server/storage/index.js";
import { failure } from "../support/failure.js";
import { type BackendFixture, startBackendFixture } from "./backend-fixture.js";
import { digestText, type EnrolledMember, enrollMember } from "./member-app.js";

let fixture: BackendFixture;
let operator: NatsConnection;
const open: NatsConnection[] = [];

beforeAll(async () => {
  fixture = await startBackendFixture();
  operator = await fixture.serviceConnection("operator");
});
afterAll(async () => {
  for (const connection of open) await connection.close().catch(() => {});
  await fixture?.close();
});
afterEach(() => {
  fixture.clock.offsetMs = 0;
});

const audit = () => createControlAuditTable(fixture.dynamo);

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The audit entries of a command once `count` of `kind` are there. */
async function entries(commandId: string, kind: string, count = 1): Promise<ControlAuditEntry[]> {
  return await until(async () => {
    const all = await audit().list(commandId);
    return all.filter((e) => e.entry.startsWith(`${kind}#`)).length >= count ? all : undefined;
  }, `${count} ${kind} entries of ${commandId}`);
}

const attr = (entry: ControlAuditEntry | undefined, name: string) => {
  const value = entry?.attributes[name];
  return value?.S ?? value?.N ?? value?.BOOL;
};

function revoke(
  member: EnrolledMember,
  reason: RevocationReason,
  scope: { all: true } | { jwtIds: string[] } = { all: true },
) {
  const target: ControlTargetSpec = { kind: "user", ownerGuid: member.ownerGuid };
  const command = buildControlCommand({
    target,
    issuer: "ops@vettid.test",
    reason: "INC-42",
    nowMs: fixture.clock.now(),
    action: {
      case: "revokeMemberTokens",
      value: create(RevokeMemberTokensSchema, {
        ownerGuid: member.ownerGuid,
        revocationReason: reason,
        scope:
          "all" in scope
            ? { case: "all", value: create(AllTokensSchema) }
            : { case: "tokenIds", value: create(TokenIdsSchema, { jwtIds: scope.jwtIds }) },
      }),
    },
  });
  return {
    command,
    subject: controlCommandSubject(target),
    signed: signControlCommand(command, fixture.controlKey),
  };
}

async function publish(subject: string, bytes: Uint8Array): Promise<void> {
  operator.publish(subject, bytes);
  await operator.flush();
}

async function memberConnection(
  member: EnrolledMember,
  jwt = member.nats.userJwt,
): Promise<NatsConnection> {
  const connection = await connect({
    servers: fixture.nats.url,
    reconnect: false,
    authenticator: jwtAuthenticator(jwt, member.nkey.getSeed()),
  });
  open.push(connection);
  return connection;
}

async function refresh(member: EnrolledMember, nkey = member.nkey.getPublicKey()) {
  return await fixture.clients("lambda").credentials.refreshNatsCredentials({
    ownerGuid: member.ownerGuid,
    userNkeyPublic: nkey,
    deviceProof: member.device.proof(
      DeviceProofPurpose.NATS_REFRESH,
      member.ownerGuid,
      digestText(nkey),
      { signedAtMs: fixture.clock.now() },
    ),
  });
}

describe("RevokeMemberTokens", () => {
  it("ends the member's live connection at once, and the revoked key stays refused", async () => {
    const member = await enrollMember(
      fixture.clients("local"),
      await fixture.invite(),
      fixture.enclave.trust,
    );
    const bystander = await enrollMember(
      fixture.clients("local"),
      await fixture.invite(),
      fixture.enclave.trust,
    );
    const live = await memberConnection(member);
    const other = await memberConnection(bystander);
    const { command, subject, signed } = revoke(member, RevocationReason.MEMBER_REQUEST);

    await publish(subject, toBinary(SignedControlCommandSchema, signed));
    const closed = await live.closed();
    expect(String(closed)).toMatch(/authorization|revoked/i);

    // Recorded: the command, verified and accepted, and what the backend did.
    const recorded = await entries(command.commandId, "backend");
    const copy = recorded.find((e) => e.entry.startsWith("command#"));
    expect(attr(copy, "signature")).toBe("verified");
    expect(attr(copy, "outcome")).toBe("accepted");
    expect(attr(copy, "action")).toBe("revokeMemberTokens");
    expect(attr(copy, "issuer")).toBe("ops@vettid.test");
    expect(attr(copy, "target")).toBe(`ownerGuid:${member.ownerGuid}`);
    const action = recorded.find((e) => e.entry.startsWith("backend#"));
    expect(attr(action, "outcome")).toBe("applied");
    expect(attr(action, "revoked_keys")).toBe("1");
    expect(attr(action, "account_updated")).toBe(true);

    // The stored account JWT (what servers start from) carries it; the old JWT is refused.
    const stored = await createNatsAccountsTable(fixture.dynamo).get(
      fixture.trust.account.publicKey,
    );
    expect(isUserJwtRevoked(stored?.jwt ?? "", member.nats.userJwt)).toBe(true);
    await expect(memberConnection(member)).rejects.toThrow(/authorization violation/i);
    // A refresh for the revoked nkey is refused (NATS would honour a newer JWT for it)…
    const refused = await failure(refresh(member));
    expect(refused.code).toBe(Code.PermissionDenied);
    expect(refused.rawMessage).toContain("revoked");
    // …while a new nkey from the same device gets a working JWT (MEMBER_REQUEST keeps the device).
    const nkey = createUser();
    const renewed = await refresh(member, nkey.getPublicKey());
    const again = await connect({
      servers: fixture.nats.url,
      authenticator: jwtAuthenticator(renewed.credentials?.userJwt ?? "", nkey.getSeed()),
    });
    await again.close();
    // Nobody else was touched.
    expect(other.isClosed()).toBe(false);
    await other.flush();
  });

  it("DEVICE_LOST also revokes the device key: no new credentials from it", async () => {
    const member = await enrollMember(
      fixture.clients("lambda"),
      await fixture.invite(),
      fixture.enclave.trust,
    );
    const live = await memberConnection(member);
    const { command, subject, signed } = revoke(member, RevocationReason.DEVICE_LOST);
    await publish(subject, toBinary(SignedControlCommandSchema, signed));
    await live.closed();
    const recorded = await entries(command.commandId, "backend");
    expect(
      attr(
        recorded.find((e) => e.entry.startsWith("backend#")),
        "member_action",
      ),
    ).toBe("device_revoked");
    const error = await failure(refresh(member, createUser().getPublicKey()));
    expect(error.code).toBe(Code.PermissionDenied);
    expect(error.rawMessage).toContain("no longer registered");
    expect(
      (await createMembersTable(fixture.dynamo).get(member.ownerGuid))?.deviceRevokedAtMs,
    ).toBeDefined();
  });

  it("a token_ids scope revokes the listed token's key only", async () => {
    const member = await enrollMember(
      fixture.clients("local"),
      await fixture.invite(),
      fixture.enclave.trust,
    );
    const second = createUser();
    const renewed = await refresh(member, second.getPublicKey());
    const first = await memberConnection(member);
    const other = await connect({
      servers: fixture.nats.url,
      reconnect: false,
      authenticator: jwtAuthenticator(renewed.credentials?.userJwt ?? "", second.getSeed()),
    });
    open.push(other);
    const { decode } = await import("@nats-io/jwt");
    const { command, subject, signed } = revoke(member, RevocationReason.COMPROMISED, {
      jwtIds: [decode(member.nats.userJwt).jti, "no-such-token"],
    });
    await publish(subject, toBinary(SignedControlCommandSchema, signed));
    await first.closed();
    const recorded = await entries(command.commandId, "backend");
    const action = recorded.find((e) => e.entry.startsWith("backend#"));
    expect(attr(action, "revoked_keys")).toBe("1");
    expect(attr(action, "unknown_jwt_ids")).toBe("1");
    expect(other.isClosed()).toBe(false);
    await other.flush();
  });
});

describe("the audit trail", () => {
  it("records forged, unknown-key, expired and misdirected commands, flagged, and acts on none", async () => {
    const member = await enrollMember(
      fixture.clients("local"),
      await fixture.invite(),
      fixture.enclave.trust,
    );
    const live = await memberConnection(member);

    const forged = revoke(member, RevocationReason.POLICY);
    const impostor = controlKeyFromSeed(
      "test-operator",
      crypto.getRandomValues(new Uint8Array(32)),
    );
    await publish(
      forged.subject,
      toBinary(SignedControlCommandSchema, signControlCommand(forged.command, impostor)),
    );

    const unknown = revoke(member, RevocationReason.POLICY);
    const stranger = controlKeyFromSeed("someone-else", crypto.getRandomValues(new Uint8Array(32)));
    await publish(
      unknown.subject,
      toBinary(SignedControlCommandSchema, signControlCommand(unknown.command, stranger)),
    );

    fixture.clock.offsetMs = -2 * 60 * 60_000;
    const expired = revoke(member, RevocationReason.POLICY);
    fixture.clock.offsetMs = 0;
    await publish(expired.subject, toBinary(SignedControlCommandSchema, expired.signed));

    const misdirected = revoke(member, RevocationReason.POLICY);
    await publish(
      `Control.user.${crypto.randomUUID()}.command`,
      toBinary(SignedControlCommandSchema, misdirected.signed),
    );

    const expectations: [string, string, string][] = [
      [forged.command.commandId, "bad_signature", "BAD_SIGNATURE"],
      [unknown.command.commandId, "unknown_key", "UNKNOWN_KEY"],
      [expired.command.commandId, "verified", "EXPIRED"],
      [misdirected.command.commandId, "verified", "WRONG_TARGET"],
    ];
    for (const [id, signature, reason] of expectations) {
      const [entry] = await entries(id, "command");
      expect(attr(entry, "signature"), id).toBe(signature);
      expect(attr(entry, "outcome"), id).toBe("rejected");
      expect(attr(entry, "rejection_reason"), id).toBe(reason);
      expect((await audit().list(id)).some((e) => e.entry.startsWith("backend#"))).toBe(false);
    }
    // The forged copy did not burn the id: a genuine command with it would still be first.
    expect(
      (await audit().list(forged.command.commandId)).some((e) => e.entry === "first-seen"),
    ).toBe(false);
    expect(live.isClosed()).toBe(false);
    expect((await createMembersTable(fixture.dynamo).get(member.ownerGuid))?.status).toBe("active");
  });

  it("a replayed command is recorded as replayed and not applied twice", async () => {
    const member = await enrollMember(
      fixture.clients("lambda"),
      await fixture.invite(),
      fixture.enclave.trust,
    );
    const { command, subject, signed } = revoke(member, RevocationReason.MEMBER_REQUEST);
    const bytes = toBinary(SignedControlCommandSchema, signed);
    await publish(subject, bytes);
    await publish(subject, bytes);
    const all = await entries(command.commandId, "command", 2);
    const copies = all.filter((e) => e.entry.startsWith("command#"));
    expect(copies.map((e) => attr(e, "replayed")).sort()).toEqual([false, true]);
    expect(copies.find((e) => attr(e, "replayed") === true)?.attributes.rejection_reason?.S).toBe(
      "REPLAYED",
    );
    await entries(command.commandId, "backend");
    expect(
      (await audit().list(command.commandId)).filter((e) => e.entry.startsWith("backend#")),
    ).toHaveLength(1);
  });

  it("records commands of every scope, undecodable messages, and receivers' results", async () => {
    const evict = buildControlCommand({
      target: { kind: "enclave", enclaveId: "enclave-7" },
      issuer: "ops@vettid.test",
      action: {
        case: "evictVault",
        value: create(EvictVaultSchema, { ownerGuid: crypto.randomUUID() }),
      },
    });
    await publish(
      "Control.enclave.enclave-7.command",
      toBinary(SignedControlCommandSchema, signControlCommand(evict, fixture.controlKey)),
    );
    const [entry] = await entries(evict.commandId, "command");
    expect(attr(entry, "outcome")).toBe("accepted");
    expect(attr(entry, "action")).toBe("evictVault");
    expect(JSON.parse(String(attr(entry, "command_json"))).commandId).toBe(evict.commandId);

    const parent = await fixture.serviceConnection("parent");
    parent.publish(
      `Control.result.${evict.commandId}`,
      toBinary(
        ControlCommandResultSchema,
        create(ControlCommandResultSchema, {
          commandId: evict.commandId,
          executorId: "enclave-7",
          executor: Party.SUPERVISOR,
          status: ControlCommandStatus.COMPLETED,
          detail: "vault evicted",
          reportedAtMs: BigInt(Date.now()),
        }),
      ),
    );
    parent.publish(`Control.result.${evict.commandId}`, new Uint8Array([0xff, 0x01]));
    await parent.flush();
    const results = (await entries(evict.commandId, "result", 2)).filter((e) =>
      e.entry.startsWith("result#"),
    );
    const decoded = results.find((e) => attr(e, "decoded") === true);
    expect(attr(decoded, "status")).toBe("COMPLETED");
    expect(attr(decoded, "executor")).toBe("SUPERVISOR");
    expect(attr(decoded, "command_id_matches")).toBe(true);
    expect(results.some((e) => attr(e, "decoded") === false)).toBe(true);

    // Garbage on a command subject is filed apart, never under a real command's id.
    const before = await fixture.snapshot(["controlAudit"]);
    await publish("Control.global.command", new Uint8Array([1, 2, 3, 4]));
    await until(
      async () => ((await fixture.snapshot(["controlAudit"])) !== before ? true : undefined),
      "the garbage entry",
    );
    expect(await fixture.snapshot(["controlAudit"])).toContain("unattributed-");
  });
});
