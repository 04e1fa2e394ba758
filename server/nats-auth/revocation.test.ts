import { type Account, decode, encodeUser } from "@nats-io/jwt";
import { createOperator, createUser } from "@nats-io/nkeys";
import { beforeAll, describe, expect, it } from "vitest";
import { createVettidAccount, type VettidAccount } from "./account.js";
import { DEFAULT_REVOCATION_RETENTION_MS, isUserJwtRevoked, revokeUsers } from "./revocation.js";

const operatorSigningKey = createOperator();
const NOW = Date.UTC(2026, 5, 1);
let account: VettidAccount;

beforeAll(async () => {
  account = await createVettidAccount({ operatorSigningKey });
});

describe("revokeUsers", () => {
  it("adds the user with the time, keeps every other claim, and re-signs", async () => {
    const user = createUser().getPublicKey();
    const { accountJwt, revocations } = await revokeUsers({
      accountJwt: account.jwt,
      operatorSigningKey,
      userPublicKeys: [user],
      now: () => NOW,
    });
    expect(revocations).toEqual({ [user]: NOW / 1000 });
    const before = decode<Account>(account.jwt);
    const after = decode<Account>(accountJwt);
    expect(after.iss).toBe(operatorSigningKey.getPublicKey());
    expect(after.sub).toBe(before.sub);
    expect(after.name).toBe(before.name);
    expect(after.nats.revocations).toEqual({ [user]: NOW / 1000 });
    expect(after.nats.signing_keys).toEqual(before.nats.signing_keys);
    expect(after.nats.limits).toEqual(before.nats.limits);
  });

  it("keeps earlier revocations within the retention and drops older ones", async () => {
    const old = createUser().getPublicKey();
    const recent = createUser().getPublicKey();
    const fresh = createUser().getPublicKey();
    const first = await revokeUsers({
      accountJwt: account.jwt,
      operatorSigningKey,
      userPublicKeys: [old],
      now: () => NOW - DEFAULT_REVOCATION_RETENTION_MS - 1000,
    });
    const second = await revokeUsers({
      accountJwt: first.accountJwt,
      operatorSigningKey,
      userPublicKeys: [recent],
      now: () => NOW - 1000,
    });
    const third = await revokeUsers({
      accountJwt: second.accountJwt,
      operatorSigningKey,
      userPublicKeys: [fresh],
      now: () => NOW,
    });
    expect(Object.keys(third.revocations).sort()).toEqual([recent, fresh].sort());
  });

  it("never moves a revocation back in time", async () => {
    const user = createUser().getPublicKey();
    const later = await revokeUsers({
      accountJwt: account.jwt,
      operatorSigningKey,
      userPublicKeys: [user],
      now: () => NOW,
    });
    const earlier = await revokeUsers({
      accountJwt: later.accountJwt,
      operatorSigningKey,
      userPublicKeys: [user],
      at: NOW - 60_000,
      now: () => NOW,
    });
    expect(earlier.revocations[user]).toBe(NOW / 1000);
  });

  it("refuses an account JWT signed by another key, so nothing foreign gets laundered", async () => {
    await expect(
      revokeUsers({
        accountJwt: account.jwt,
        operatorSigningKey: createOperator(),
        userPublicKeys: [createUser().getPublicKey()],
      }),
    ).rejects.toThrow(/not by the operator signing key given/);
  });

  it("refuses tampered or non-account JWTs and malformed user keys", async () => {
    const [h, p, s] = account.jwt.split(".");
    const tampered = `${h}.${p?.slice(0, -2)}AA.${s}`;
    await expect(
      revokeUsers({ accountJwt: tampered, operatorSigningKey, userPublicKeys: [] }),
    ).rejects.toThrow(/not a valid NATS JWT/);
    const user = createUser();
    const userJwt = await encodeUser("u", user, account.identityKey);
    await expect(
      revokeUsers({ accountJwt: userJwt, operatorSigningKey, userPublicKeys: [] }),
    ).rejects.toThrow(/expected an account JWT, got one of type "user"/);
    await expect(
      revokeUsers({ accountJwt: account.jwt, operatorSigningKey, userPublicKeys: [] }),
    ).rejects.toThrow(/at least one/);
    await expect(
      revokeUsers({
        accountJwt: account.jwt,
        operatorSigningKey,
        userPublicKeys: [account.publicKey],
      }),
    ).rejects.toThrow(/userPublicKeys\[0\] must be a user key/);
  });
});

describe("isUserJwtRevoked", () => {
  it("is true for JWTs of the key issued at or before the revocation, false otherwise", async () => {
    const user = createUser();
    const other = createUser();
    const userJwt = await encodeUser("u", user.getPublicKey(), account.identityKey);
    const otherJwt = await encodeUser("o", other.getPublicKey(), account.identityKey);
    const issuedAt = decode(userJwt).iat * 1000;
    const { accountJwt } = await revokeUsers({
      accountJwt: account.jwt,
      operatorSigningKey,
      userPublicKeys: [user.getPublicKey()],
      at: issuedAt,
      now: () => issuedAt,
    });
    expect(isUserJwtRevoked(accountJwt, userJwt)).toBe(true);
    expect(isUserJwtRevoked(accountJwt, otherJwt)).toBe(false);
    const { accountJwt: beforeIssue } = await revokeUsers({
      accountJwt: account.jwt,
      operatorSigningKey,
      userPublicKeys: [user.getPublicKey()],
      at: issuedAt - 1000,
      now: () => issuedAt,
    });
    expect(isUserJwtRevoked(beforeIssue, userJwt)).toBe(false);
  });
});
