import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../config/index.js";
import {
  ENV_BUCKET_VOTE_LISTS,
  ENV_BUCKET_VOTE_LISTS_PREFIX,
  ENV_KMS_PROPOSAL_KEY_ARN,
  ENV_KMS_SUBSCRIPTION_KEY_ARN,
  ENV_VOTE_LISTS_PUBLIC_URL,
  readVotingWorkerConfig,
} from "./voting-workers.js";

const PCR = "ab".repeat(48);
const VOTING = {
  VETTID_KMS_PROPOSAL_KEY_ARN:
    "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
  VETTID_KMS_SUBSCRIPTION_KEY_ARN:
    "arn:aws:kms:eu-west-1:123456789012:key/abcd1234-12ab-34cd-56ef-1234567890ab",
  VETTID_BUCKET_VOTE_LISTS: "vettid-dev-vote-lists-123456789012-eu-west-1",
  VETTID_BUCKET_VOTE_LISTS_PREFIX: "",
  VETTID_VOTE_LISTS_PUBLIC_URL: "https://vote-lists.dev.vettid.dev",
  VETTID_ENCLAVE_PCR_SETS: JSON.stringify([{ id: "2026.05.1", pcrs: { 0: PCR, 1: PCR, 2: PCR } }]),
};
const DEV = { production: false };
const PROD = { production: true };

function configError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigurationError");
}

describe("the workers' voting configuration", () => {
  it("reads every variable; the public URL gets its trailing slash", () => {
    const config = readVotingWorkerConfig(VOTING, PROD);
    expect(config).toMatchObject({
      proposalKeyArn: VOTING.VETTID_KMS_PROPOSAL_KEY_ARN,
      subscriptionKeyArn: VOTING.VETTID_KMS_SUBSCRIPTION_KEY_ARN,
      bucket: VOTING.VETTID_BUCKET_VOTE_LISTS,
      prefix: "",
      publicUrl: "https://vote-lists.dev.vettid.dev/",
    });
    expect(config?.attestation.pcrSets).toEqual([expect.objectContaining({ id: "2026.05.1" })]);
    expect(config?.attestation.allowDevRoot).toBeUndefined();
    expect(
      readVotingWorkerConfig(
        {
          ...VOTING,
          [ENV_BUCKET_VOTE_LISTS_PREFIX]: "voting/",
          [ENV_VOTE_LISTS_PUBLIC_URL]: "https://cdn.example/lists/",
        },
        PROD,
      ),
    ).toMatchObject({ prefix: "voting/", publicUrl: "https://cdn.example/lists/" });
  });

  it("is off when no voting variable is set, outside production only", () => {
    expect(readVotingWorkerConfig({}, DEV)).toBeUndefined();
    expect(configError(() => readVotingWorkerConfig({}, PROD))).toBe(
      `${ENV_KMS_PROPOSAL_KEY_ARN}, ${ENV_KMS_SUBSCRIPTION_KEY_ARN}, ${ENV_BUCKET_VOTE_LISTS}, ${ENV_VOTE_LISTS_PUBLIC_URL} are required in production (the workers serve voting)`,
    );
  });

  it("is all or nothing: a partial configuration names what is missing", () => {
    expect(
      configError(() =>
        readVotingWorkerConfig(
          { [ENV_KMS_PROPOSAL_KEY_ARN]: VOTING.VETTID_KMS_PROPOSAL_KEY_ARN },
          DEV,
        ),
      ),
    ).toBe(
      `${ENV_KMS_SUBSCRIPTION_KEY_ARN}, ${ENV_BUCKET_VOTE_LISTS}, ${ENV_VOTE_LISTS_PUBLIC_URL} are required: voting is configured (${ENV_KMS_PROPOSAL_KEY_ARN} set)`,
    );
    for (const variable of [
      ENV_KMS_PROPOSAL_KEY_ARN,
      ENV_KMS_SUBSCRIPTION_KEY_ARN,
      ENV_BUCKET_VOTE_LISTS,
      ENV_VOTE_LISTS_PUBLIC_URL,
    ]) {
      const message = configError(() => readVotingWorkerConfig({ ...VOTING, [variable]: "" }, DEV));
      expect(message).toMatch(new RegExp(`^${variable} is required`));
    }
    expect(
      configError(() =>
        readVotingWorkerConfig({ ...VOTING, VETTID_ENCLAVE_PCR_SETS: undefined }, DEV),
      ),
    ).toBe("VETTID_ENCLAVE_PCR_SETS is required");
  });

  it("refuses malformed values, naming the variable", () => {
    for (const [variable, value, message] of [
      [ENV_KMS_PROPOSAL_KEY_ARN, "1234abcd", "must be a KMS key or alias ARN"],
      [
        ENV_KMS_SUBSCRIPTION_KEY_ARN,
        "arn:aws:s3:::vettid-dev-vote-lists",
        "must be a KMS key or alias ARN",
      ],
      [
        ENV_KMS_SUBSCRIPTION_KEY_ARN,
        VOTING.VETTID_KMS_PROPOSAL_KEY_ARN,
        `must name a different key than ${ENV_KMS_PROPOSAL_KEY_ARN}`,
      ],
      [ENV_BUCKET_VOTE_LISTS, "Vote_Lists", "must be an S3 bucket name"],
      [ENV_BUCKET_VOTE_LISTS_PREFIX, "voting", "must be empty or a key prefix ending in /"],
      [ENV_BUCKET_VOTE_LISTS_PREFIX, "/voting/", "must be empty or a key prefix ending in /"],
      [ENV_VOTE_LISTS_PUBLIC_URL, "vote-lists.example", "is not a URL"],
      [ENV_VOTE_LISTS_PUBLIC_URL, "ftp://vote-lists.example/", "must use https: or http:"],
      [ENV_VOTE_LISTS_PUBLIC_URL, "https://vote-lists.example/?x=1", "a plain base URL"],
      ["VETTID_ENCLAVE_PCR_SETS", "[]", "non-empty JSON array"],
    ] as const) {
      const text = configError(() => readVotingWorkerConfig({ ...VOTING, [variable]: value }, DEV));
      expect(text.startsWith(variable), text).toBe(true);
      expect(text).toContain(message);
    }
  });

  it("production: https only, no dev root", () => {
    expect(
      configError(() =>
        readVotingWorkerConfig(
          { ...VOTING, [ENV_VOTE_LISTS_PUBLIC_URL]: "http://vote-lists.example/" },
          PROD,
        ),
      ),
    ).toBe(`${ENV_VOTE_LISTS_PUBLIC_URL} must use https: in production`);
    expect(
      readVotingWorkerConfig(
        { ...VOTING, [ENV_VOTE_LISTS_PUBLIC_URL]: "http://127.0.0.1:8080/lists" },
        DEV,
      )?.publicUrl,
    ).toBe("http://127.0.0.1:8080/lists/");
    expect(
      configError(() =>
        readVotingWorkerConfig(
          { ...VOTING, VETTID_ALLOW_DEV_ROOT: "true", VETTID_DEV_ROOT_SHA256: "ab".repeat(32) },
          PROD,
        ),
      ),
    ).toContain("VETTID_ALLOW_DEV_ROOT is a development option and is refused in production");
    expect(
      readVotingWorkerConfig(
        { ...VOTING, VETTID_ALLOW_DEV_ROOT: "true", VETTID_DEV_ROOT_SHA256: "ab".repeat(32) },
        DEV,
      )?.attestation,
    ).toMatchObject({ allowDevRoot: true, devRootSha256: "ab".repeat(32) });
  });
});
