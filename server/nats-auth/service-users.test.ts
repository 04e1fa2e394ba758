import { decode, type User } from "@nats-io/jwt";
import { createAccount, createUser } from "@nats-io/nkeys";
import { beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_OPERATOR_JWT_TTL_MS,
  DEFAULT_SERVICE_JWT_TTL_MS,
  type IssueServiceUserOptions,
  issueServiceUser,
  MAX_SERVICE_JWT_TTL_MS,
  servicePermissions,
} from "./service-users.js";
import { createNatsTrust, type NatsTrust } from "./trust.js";

const NOW = Date.UTC(2026, 3, 1);
let trust: NatsTrust;
beforeAll(async () => {
  trust = await createNatsTrust();
});

function options(overrides: Partial<IssueServiceUserOptions> = {}): IssueServiceUserOptions {
  return {
    role: "backend",
    userPublicKey: createUser().getPublicKey(),
    accountPublicKey: trust.account.publicKey,
    signingKey: trust.account.serviceSigningKey,
    now: () => NOW,
    ...overrides,
  };
}

describe("service users", () => {
  it("carry their role's permissions, no bearer use, and expire after a week", async () => {
    const issued = await issueServiceUser(options());
    const claims = decode<User>(issued.jwt);
    expect(claims.name).toBe("backend");
    expect(claims.iss).toBe(trust.account.serviceSigningKey.getPublicKey());
    expect(claims.nats.issuer_account).toBe(trust.account.publicKey);
    expect(claims.nats.pub?.allow).toEqual(servicePermissions("backend").publish);
    expect(claims.nats.sub?.allow).toEqual(servicePermissions("backend").subscribe);
    expect(claims.nats.bearer_token).toBe(false);
    expect(claims.nats.allowed_connection_types).toEqual(["STANDARD"]);
    expect(claims.exp).toBe((NOW + DEFAULT_SERVICE_JWT_TTL_MS) / 1000);
    expect(issued.expiresAtMs).toBe(NOW + DEFAULT_SERVICE_JWT_TTL_MS);
    expect(issued.jti).toBe(claims.jti);
  });

  it("bind a parent to its own enclave's control subject", async () => {
    const issued = await issueServiceUser(options({ role: "parent", enclaveId: "enclave-7" }));
    expect(decode<User>(issued.jwt).name).toBe("parent-enclave-7");
    expect(issued.permissions.subscribe).toContain("Control.enclave.enclave-7.command");
    expect(issued.permissions.subscribe.filter((s) => s.startsWith("Control.enclave."))).toEqual([
      "Control.enclave.enclave-7.command",
    ]);
  });

  it("let the backend hear control commands and results (audit trail), never publish them", async () => {
    const { permissions } = await issueServiceUser(options());
    expect(permissions.subscribe).toEqual(
      expect.arrayContaining([
        "Control.*.command",
        "Control.enclave.*.command",
        "Control.user.*.command",
        "Control.result.*",
      ]),
    );
    expect(permissions.publish.filter((s) => s.startsWith("Control."))).toEqual([]);
  });

  it("give operators a working session, not a week", async () => {
    const issued = await issueServiceUser(options({ role: "operator" }));
    expect(issued.expiresAtMs).toBe(NOW + DEFAULT_OPERATOR_JWT_TTL_MS);
  });

  it("refuse a parent without a valid enclave id, and an enclave id for other roles", async () => {
    await expect(issueServiceUser(options({ role: "parent" }))).rejects.toThrow(
      /enclaveId must be a string/,
    );
    await expect(issueServiceUser(options({ role: "parent", enclaveId: "a.>" }))).rejects.toThrow(
      /enclaveId contains "."/,
    );
    await expect(issueServiceUser(options({ enclaveId: "enclave-1" }))).rejects.toThrow(
      /only to the parent role/,
    );
  });

  it("refuse unknown roles, bad keys, the identity key and over-long lifetimes", async () => {
    await expect(
      issueServiceUser(options({ role: "admin" as unknown as "backend" })),
    ).rejects.toThrow(/role must be one of parent, backend, operator/);
    await expect(
      issueServiceUser(options({ userPublicKey: createAccount().getPublicKey() })),
    ).rejects.toThrow(/userPublicKey must be a user key/);
    await expect(
      issueServiceUser(options({ signingKey: trust.account.identityKey })),
    ).rejects.toThrow(/service signing key/);
    await expect(issueServiceUser(options({ ttlMs: MAX_SERVICE_JWT_TTL_MS + 1 }))).rejects.toThrow(
      /ttlMs must be/,
    );
  });
});
