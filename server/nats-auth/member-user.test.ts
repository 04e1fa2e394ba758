import { Code, ConnectError } from "@connectrpc/connect";
import { type ClaimsData, decode, type User } from "@nats-io/jwt";
import { createAccount, createOperator, createUser } from "@nats-io/nkeys";
import { beforeAll, describe, expect, it } from "vitest";
import { createVettidAccount, type VettidAccount } from "./account.js";
import {
  createMemberCredentialIssuer,
  DEFAULT_MEMBER_JWT_TTL_MS,
  MAX_MEMBER_JWT_TTL_MS,
  type MemberCredentialIssuerOptions,
  MIN_MEMBER_JWT_TTL_MS,
  memberSigningKeyScope,
} from "./member-user.js";
import { createIssuanceRateLimiter } from "./rate-limit.js";

const GUID = "0f6a7c52-1c1e-4e8b-9d3a-6a2f4b8c9d01";
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

let account: VettidAccount;
beforeAll(async () => {
  account = await createVettidAccount({ operatorSigningKey: createOperator() });
});

function issuer(options: Partial<MemberCredentialIssuerOptions> = {}) {
  return createMemberCredentialIssuer({
    accountPublicKey: account.publicKey,
    signingKey: account.memberSigningKey,
    serverUrls: ["tls://os.vettid.dev:443"],
    now: () => NOW,
    ...options,
  });
}

async function rejection(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ConnectError) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

describe("member credentials", () => {
  it("sign a scoped user JWT for the device's key, named by the GUID, with an expiry", async () => {
    const device = createUser();
    const { credentials, jti } = await issuer().issue(GUID, device.getPublicKey());
    const claims: ClaimsData<User> = decode<User>(credentials.userJwt);
    expect(claims.sub).toBe(device.getPublicKey());
    expect(claims.name).toBe(GUID);
    expect(claims.iss).toBe(account.memberSigningKey.getPublicKey());
    expect(claims.nats.issuer_account).toBe(account.publicKey);
    expect(claims.nats.type).toBe("user");
    // A scoped user carries no permissions, limits or bearer flag: the signing key's template does.
    expect(claims.nats.pub).toBeUndefined();
    expect(claims.nats.sub).toBeUndefined();
    expect(claims.nats.bearer_token).toBeUndefined();
    expect(claims.exp).toBe(Math.floor((NOW + DEFAULT_MEMBER_JWT_TTL_MS) / 1000));
    expect(jti).toBe(claims.jti);
    expect(jti.length).toBeGreaterThan(20);
    expect(credentials.issuedAtMs).toBe(BigInt(NOW));
    expect(credentials.expiresAtMs).toBe(BigInt(claims.exp as number) * 1000n);
  });

  it("tell the app its prefixes and what its JWT allows", async () => {
    const { credentials } = await issuer().issue(GUID, createUser().getPublicKey());
    expect(credentials.serverUrls).toEqual(["tls://os.vettid.dev:443"]);
    expect(credentials.ownerSpacePrefix).toBe(`OwnerSpace.${GUID}`);
    expect(credentials.messageSpacePrefix).toBe(`MessageSpace.${GUID}`);
    expect(credentials.rpcReplyPrefix).toBe(`OwnerSpace.${GUID}.forApp.rpc`);
    expect(credentials.permissions?.publishAllow).toEqual([
      `OwnerSpace.${GUID}.forVault.>`,
      "MessageSpace.*.ownerProfile.>",
    ]);
    expect(credentials.permissions?.subscribeAllow).toEqual([
      `OwnerSpace.${GUID}.forApp.>`,
      `OwnerSpace.${GUID}.eventTypes`,
      "Broadcast.security.alert",
      "Broadcast.system.announcement",
    ]);
  });

  it("differ per issuance (distinct jti) for different keys", async () => {
    const a = await issuer().issue(GUID, createUser().getPublicKey());
    const b = await issuer().issue(GUID, createUser().getPublicKey());
    expect(a.jti).not.toBe(b.jti);
  });

  it("use the configured lifetime", async () => {
    const { credentials } = await issuer({ ttlMs: MIN_MEMBER_JWT_TTL_MS }).issue(
      GUID,
      createUser().getPublicKey(),
    );
    expect(decode(credentials.userJwt).exp).toBe(Math.floor((NOW + 60_000) / 1000));
  });
});

describe("member credential requests", () => {
  it.each([
    ["", "owner_guid is empty"],
    ["a.b", 'owner_guid contains "." (a token separator)'],
    ["*", 'owner_guid contains "*" (a wildcard)'],
    [">", 'owner_guid contains ">" (a wildcard)'],
    ["a b", "owner_guid contains whitespace"],
    ["x".repeat(129), "owner_guid is 129 characters long (at most 128)"],
    ["gü", "owner_guid contains characters other than A-Z a-z 0-9 _ -"],
  ])("refuse owner_guid %j: invalid_argument", async (guid, message) => {
    const error = await rejection(issuer().issue(guid, createUser().getPublicKey()));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toContain(message);
  });

  const user = createUser().getPublicKey();
  it.each([
    ["a seed", new TextDecoder().decode(createUser().getSeed()), "is a seed (a private key)"],
    ["an account key", createAccount().getPublicKey(), 'got an account key starting with "A"'],
    ["an operator key", createOperator().getPublicKey(), 'got an operator key starting with "O"'],
    ["a truncated key", user.slice(0, 40), "is 40 characters long; a public nkey has 56"],
    [
      "a bad checksum",
      `${user.slice(0, 54)}${user.endsWith("AA") ? "AB" : "AA"}`,
      "not a valid nkey",
    ],
    ["lower case", user.toLowerCase(), 'got a value starting with "u"'],
    ["empty", "", 'got a value starting with ""'],
  ])("refuse user_nkey_public that is %s: invalid_argument", async (_, key, message) => {
    const error = await rejection(issuer().issue(GUID, key));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toContain("user_nkey_public");
    expect(error.rawMessage).toContain(message);
  });

  it("do not count refused requests against the rate limit", async () => {
    const limited = issuer({ rateLimiter: createIssuanceRateLimiter({ limit: 1 }) });
    await rejection(limited.issue(GUID, "not a key"));
    await expect(limited.issue(GUID, createUser().getPublicKey())).resolves.toBeDefined();
    const error = await rejection(limited.issue(GUID, createUser().getPublicKey()));
    expect(error.code).toBe(Code.ResourceExhausted);
  });
});

describe("member credential issuer options", () => {
  it.each([
    [MIN_MEMBER_JWT_TTL_MS - 1, "ttlMs must be"],
    [MAX_MEMBER_JWT_TTL_MS + 1, "ttlMs must be"],
    [1.5e6 + 0.5, "ttlMs must be"],
  ])("refuse ttlMs %d", (ttlMs, message) => {
    expect(() => issuer({ ttlMs })).toThrow(message);
  });

  it("refuse the account identity key as the signer", () => {
    expect(() => issuer({ signingKey: account.identityKey })).toThrow(/member signing key/);
  });

  it("refuse a signing key without its seed, or of the wrong kind", () => {
    expect(() => issuer({ signingKey: createOperator() })).toThrow(/an account key/);
  });

  it("refuse missing or malformed server URLs", () => {
    expect(() => issuer({ serverUrls: [] })).toThrow(/at least one/);
    expect(() => issuer({ serverUrls: ["os.vettid.dev"] })).toThrow(/not a URL/);
    expect(() => issuer({ serverUrls: ["https://os.vettid.dev"] })).toThrow(/nats:\/\//);
  });
});

describe("member signing key scope", () => {
  it("holds the member permissions for {{name()}}, the limits and no bearer use", () => {
    const scope = memberSigningKeyScope(account.memberSigningKey.getPublicKey());
    expect(scope.kind).toBe("user_scope");
    expect(scope.key).toBe(account.memberSigningKey.getPublicKey());
    expect(scope.role).toBe("member");
    expect(scope.template.pub?.allow).toEqual([
      "OwnerSpace.{{name()}}.forVault.>",
      "MessageSpace.*.ownerProfile.>",
    ]);
    expect(scope.template.sub?.allow).toEqual([
      "OwnerSpace.{{name()}}.forApp.>",
      "OwnerSpace.{{name()}}.eventTypes",
      "Broadcast.security.alert",
      "Broadcast.system.announcement",
    ]);
    expect(scope.template.subs).toBe(64);
    expect(scope.template.payload).toBe(512 * 1024);
    expect(scope.template.data).toBe(-1);
    expect(scope.template.bearer_token).toBe(false);
    expect(scope.template.allowed_connection_types).toEqual(["STANDARD"]);
    expect(scope.template.resp).toBeUndefined();
  });

  it("refuse a limit of 0 (it would forbid everything)", () => {
    expect(() =>
      memberSigningKeyScope(account.memberSigningKey.getPublicKey(), { subscriptions: 0 }),
    ).toThrow(/limits.subscriptions/);
  });
});
