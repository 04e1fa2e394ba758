import { type Account, decode, type Operator } from "@nats-io/jwt";
import { createOperator as createOperatorKey } from "@nats-io/nkeys";
import { describe, expect, it } from "vitest";
import { createSystemAccount, createVettidAccount } from "./account.js";
import { createOperator } from "./operator.js";
import { operatorModeConfig } from "./server-config.js";
import { createNatsTrust } from "./trust.js";

describe("operator-mode server configuration", () => {
  it("names the operator, the system account and preloads every account in a MEMORY resolver", async () => {
    const trust = await createNatsTrust();
    const config = trust.serverConfig();
    expect(config).toContain(`operator: "${trust.operator.jwt}"`);
    expect(config).toContain(`system_account: ${trust.systemAccount.publicKey}`);
    expect(config).toContain("resolver: MEMORY");
    expect(config).toContain(`  ${trust.systemAccount.publicKey}: "${trust.systemAccount.jwt}"`);
    expect(config).toContain(`  ${trust.account.publicKey}: "${trust.account.jwt}"`);
  });

  it("refuses an account signed by a key the operator does not trust", async () => {
    const trust = await createNatsTrust();
    const foreign = await createVettidAccount({ operatorSigningKey: createOperatorKey() });
    expect(() =>
      operatorModeConfig({
        operatorJwt: trust.operator.jwt,
        systemAccountJwt: trust.systemAccount.jwt,
        accountJwts: [foreign.jwt],
      }),
    ).toThrow(
      /accountJwts\[0\] \(VETTID, A\w+\) is signed by O\w+, which operator VettID does not trust/,
    );
  });

  it("refuses a system account other than the one the operator names", async () => {
    const trust = await createNatsTrust();
    const other = await createSystemAccount({ operatorSigningKey: trust.operator.signingKey });
    expect(() =>
      operatorModeConfig({
        operatorJwt: trust.operator.jwt,
        systemAccountJwt: other.jwt,
        accountJwts: [trust.account.jwt],
      }),
    ).toThrow(/but the operator names/);
  });

  it("refuses an account listed twice and JWTs of the wrong kind", async () => {
    const trust = await createNatsTrust();
    const base = { operatorJwt: trust.operator.jwt, systemAccountJwt: trust.systemAccount.jwt };
    expect(() =>
      operatorModeConfig({ ...base, accountJwts: [trust.account.jwt, trust.account.jwt] }),
    ).toThrow(/listed twice/);
    expect(() =>
      operatorModeConfig({ ...base, operatorJwt: trust.account.jwt, accountJwts: [] }),
    ).toThrow(/operatorJwt: expected an operator JWT, got one of type "account"/);
    expect(() => operatorModeConfig({ ...base, accountJwts: [trust.operator.jwt] })).toThrow(
      /expected an account JWT, got one of type "operator"/,
    );
    expect(() => operatorModeConfig({ ...base, accountJwts: ["not.a.jwt"] })).toThrow(
      /not a valid NATS JWT/,
    );
  });
});

describe("operator and accounts", () => {
  it("the operator JWT is self-signed and lists its signing key and the system account", async () => {
    const trust = await createNatsTrust();
    const claims = decode<Operator>(trust.operator.jwt);
    expect(claims.iss).toBe(trust.operator.publicKey);
    expect(claims.sub).toBe(trust.operator.publicKey);
    expect(claims.nats.signing_keys).toEqual([trust.operator.signingKey.getPublicKey()]);
    expect(claims.nats.system_account).toBe(trust.systemAccount.publicKey);
  });

  it("account JWTs are signed by the operator signing key and set every limit", async () => {
    const trust = await createNatsTrust();
    const claims = decode<Account>(trust.account.jwt);
    expect(claims.iss).toBe(trust.operator.signingKey.getPublicKey());
    expect(claims.name).toBe("VETTID");
    // An absent limit reads as 0 in nats-server: 0 connections.
    expect(claims.nats.limits).toMatchObject({ conn: -1, subs: -1, payload: -1, data: -1 });
    expect(claims.nats.limits?.disallow_bearer).toBe(true);
    expect(claims.nats.signing_keys).toEqual([
      expect.objectContaining({
        kind: "user_scope",
        key: trust.account.memberSigningKey.getPublicKey(),
        role: "member",
      }),
      trust.account.serviceSigningKey.getPublicKey(),
    ]);
    expect(decode<Account>(trust.systemAccount.jwt).nats.limits?.conn).toBe(-1);
  });

  it("refuses keys of the wrong kind, and reused keys", async () => {
    const trust = await createNatsTrust();
    await expect(
      createOperator({ systemAccountPublicKey: trust.operator.publicKey }),
    ).rejects.toThrow(/systemAccountPublicKey must be an account key/);
    const key = createOperatorKey();
    await expect(
      createOperator({
        systemAccountPublicKey: trust.systemAccount.publicKey,
        identityKey: key,
        signingKey: key,
      }),
    ).rejects.toThrow(/must differ/);
    await expect(
      createVettidAccount({
        operatorSigningKey: trust.operator.signingKey,
        memberSigningKey: trust.account.serviceSigningKey,
        serviceSigningKey: trust.account.serviceSigningKey,
      }),
    ).rejects.toThrow(/three different keys/);
    await expect(
      createVettidAccount({ operatorSigningKey: trust.account.identityKey }),
    ).rejects.toThrow(/operatorSigningKey must be an operator key/);
  });
});
