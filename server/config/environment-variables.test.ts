import { describe, expect, it } from "vitest";
import { ConfigurationError } from "./configuration-error.js";
import {
  readCommonConfig,
  readDevelopmentFlag,
  readNatsUrls,
  readPcrSets,
  readPublicNkey,
  readSecretReference,
} from "./environment-variables.js";

const ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:vettid/dev/nats-member-AbCdEf";

function configError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigurationError");
}

describe("common configuration", () => {
  it("reads the environment and calls prod… production", () => {
    expect(readCommonConfig({ VETTID_ENVIRONMENT: "dev" })).toEqual({
      environment: "dev",
      production: false,
    });
    expect(readCommonConfig({ VETTID_ENVIRONMENT: "prod-eu" }).production).toBe(true);
  });

  it("refuses a missing or malformed environment", () => {
    expect(configError(() => readCommonConfig({}))).toBe("VETTID_ENVIRONMENT is required");
    expect(configError(() => readCommonConfig({ VETTID_ENVIRONMENT: "Dev!" }))).toContain(
      "VETTID_ENVIRONMENT: environment must be",
    );
  });

  it("checks table names the deployment gave against the ones the code derives", () => {
    expect(
      readCommonConfig({
        VETTID_ENVIRONMENT: "dev",
        VETTID_TABLE_ENROLLMENT_SESSIONS: "vettid-dev-enrollment-sessions",
      }).environment,
    ).toBe("dev");
    expect(
      configError(() =>
        readCommonConfig({ VETTID_ENVIRONMENT: "dev", VETTID_TABLE_MEMBERS: "members" }),
      ),
    ).toContain('VETTID_TABLE_MEMBERS is "members", but the code uses vettid-dev-members');
  });

  it("allows a local DynamoDB endpoint outside production only", () => {
    expect(
      readCommonConfig({
        VETTID_ENVIRONMENT: "dev",
        VETTID_DYNAMODB_ENDPOINT: "http://127.0.0.1:4567",
      }).dynamoEndpoint,
    ).toBe("http://127.0.0.1:4567");
    expect(
      configError(() =>
        readCommonConfig({ VETTID_ENVIRONMENT: "prod", VETTID_DYNAMODB_ENDPOINT: "http://x:1" }),
      ),
    ).toContain("refused in production");
  });
});

describe("settings", () => {
  it("NATS URLs: a list, each nats://, tls://, ws:// or wss://", () => {
    expect(readNatsUrls({ VETTID_NATS_URLS: "tls://a:443, tls://b:443" })).toEqual([
      "tls://a:443",
      "tls://b:443",
    ]);
    expect(configError(() => readNatsUrls({ VETTID_NATS_URLS: "http://a" }))).toContain(
      "must use nats: or tls: or ws: or wss:",
    );
    expect(configError(() => readNatsUrls({ VETTID_NATS_URLS: " , " }))).toContain("lists no URL");
  });

  it("public nkeys by prefix", () => {
    const key = `A${"B".repeat(55)}`;
    expect(readPublicNkey({ K: key }, "K", "A")).toBe(key);
    expect(configError(() => readPublicNkey({ K: `U${"B".repeat(55)}` }, "K", "A"))).toContain(
      "starting with A",
    );
  });

  it("secrets: an ARN anywhere, a file outside production only", () => {
    expect(
      readSecretReference(
        { VETTID_SECRET_NATS_MEMBER_SIGNING_KEY_ARN: ARN },
        "natsMemberSigningKey",
        true,
      ),
    ).toEqual({ kind: "secrets-manager", arn: ARN });
    expect(
      readSecretReference(
        { VETTID_SECRET_NATS_BACKEND_USER_FILE: "/tmp/b.creds" },
        "natsBackendUser",
        false,
      ),
    ).toEqual({ kind: "file", path: "/tmp/b.creds" });
    expect(
      configError(() =>
        readSecretReference(
          { VETTID_SECRET_NATS_BACKEND_USER_FILE: "/tmp/b" },
          "natsBackendUser",
          true,
        ),
      ),
    ).toContain("refused in production");
    expect(
      configError(() =>
        readSecretReference(
          { VETTID_SECRET_NATS_BACKEND_USER_ARN: "arn:aws:s3:::bucket" },
          "natsBackendUser",
          false,
        ),
      ),
    ).toContain("not a Secrets Manager secret ARN");
    expect(configError(() => readSecretReference({}, "natsBackendUser", false))).toBe(
      "VETTID_SECRET_NATS_BACKEND_USER_ARN is required",
    );
  });

  it("development flags: true only outside production", () => {
    expect(readDevelopmentFlag({}, "F", true)).toBe(false);
    expect(readDevelopmentFlag({ F: "true" }, "F", false)).toBe(true);
    expect(configError(() => readDevelopmentFlag({ F: "true" }, "F", true))).toContain(
      "refused in production",
    );
    expect(configError(() => readDevelopmentFlag({ F: "yes" }, "F", false))).toContain(
      "must be true or false",
    );
  });

  it("PCR sets: ids and 48-byte values in hex", () => {
    const hex = "ab".repeat(48);
    const [set] = readPcrSets({
      VETTID_ENCLAVE_PCR_SETS: JSON.stringify([
        { id: "2026.05.1", pcrs: { 0: hex, 1: hex, 2: hex } },
      ]),
    });
    expect(set?.id).toBe("2026.05.1");
    expect(set?.pcrs[0]).toEqual(new Uint8Array(48).fill(0xab));
    for (const [value, message] of [
      ["", "is required"],
      ["{", "is not JSON"],
      ["[]", "non-empty JSON array"],
      [JSON.stringify([{ pcrs: {} }]), 'needs an "id" and "pcrs"'],
      [JSON.stringify([{ id: "x", pcrs: { 0: "ab" } }]), "96 lowercase hex digits"],
      [JSON.stringify([{ id: "x", pcrs: { 40: hex } }]), "PCR 0-31"],
    ] as const) {
      expect(configError(() => readPcrSets({ VETTID_ENCLAVE_PCR_SETS: value }))).toContain(message);
    }
  });
});
