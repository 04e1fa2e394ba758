import { Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { TABLES, tableName } from "../../server/storage/tables.js";
import { enclaveHostRoleName } from "../lib/config/names.js";
import {
  IMAGE_SHA384_CONDITION,
  SEALING_KEY_ADMIN_ACTIONS,
} from "../lib/constructs/sealing-key-policy.js";
import { buildStacks, configFor, flatten, type TemplateStatement } from "./support.js";

const config = configFor("dev");
const { stacks } = buildStacks(config);
const template = Template.fromStack(stacks.infrastructure);

/** Every action that returns or moves key material, as KMS names them. */
const CRYPTO_ACTIONS = [
  "kms:Decrypt",
  "kms:Encrypt",
  "kms:GenerateDataKey",
  "kms:GenerateDataKeyPair",
  "kms:GenerateDataKeyWithoutPlaintext",
  "kms:ReEncryptFrom",
  "kms:ReEncryptTo",
  "kms:CreateGrant",
];

function sealingKeyStatements(t = template): TemplateStatement[] {
  const keys = t.findResources("AWS::KMS::Key", {
    Properties: { KeySpec: Match.absent(), EnableKeyRotation: true },
  });
  const sealing = Object.values(keys).filter((k) =>
    String(k.Properties.Description).startsWith("Vault sealing key"),
  );
  expect(sealing).toHaveLength(1);
  return sealing[0]?.Properties.KeyPolicy.Statement as TemplateStatement[];
}

/** Whether an action pattern (`kms:*`, `kms:Generate*`) covers an action. */
function covers(pattern: string, action: string): boolean {
  return new RegExp(
    `^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`,
    "i",
  ).test(action);
}

describe("DynamoDB tables", () => {
  const tables = template.findResources("AWS::DynamoDB::Table");

  it("creates exactly the tables of server/storage/tables.ts", () => {
    const names = Object.values(tables)
      .map((t) => t.Properties.TableName)
      .sort();
    expect(names).toEqual(
      (Object.keys(TABLES) as (keyof typeof TABLES)[]).map((k) => tableName("dev", k)).sort(),
    );
  });

  for (const [key, def] of Object.entries(TABLES) as [
    keyof typeof TABLES,
    (typeof TABLES)[keyof typeof TABLES],
  ][]) {
    it(`${tableName("dev", key)}: keys, indexes, TTL, PITR, encryption, deletion protection`, () => {
      const keySchema = [
        { AttributeName: def.partitionKey.name, KeyType: "HASH" },
        ...("sortKey" in def ? [{ AttributeName: def.sortKey.name, KeyType: "RANGE" }] : []),
      ];
      template.hasResource("AWS::DynamoDB::Table", {
        DeletionPolicy: "Retain",
        UpdateReplacePolicy: "Retain",
        Properties: Match.objectLike({
          TableName: tableName("dev", key),
          KeySchema: keySchema,
          BillingMode: "PAY_PER_REQUEST",
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { SSEEnabled: true },
          DeletionProtectionEnabled: true,
          ...("timeToLiveAttribute" in def
            ? { TimeToLiveSpecification: { AttributeName: def.timeToLiveAttribute, Enabled: true } }
            : { TimeToLiveSpecification: Match.absent() }),
          GlobalSecondaryIndexes:
            "globalIndexes" in def
              ? def.globalIndexes.map((index) =>
                  Match.objectLike({
                    IndexName: index.name,
                    KeySchema: [
                      { AttributeName: index.partitionKey.name, KeyType: "HASH" },
                      ...("sortKey" in index
                        ? [{ AttributeName: index.sortKey.name, KeyType: "RANGE" }]
                        : []),
                    ],
                    Projection: { ProjectionType: "ALL" },
                  }),
                )
              : Match.absent(),
        }),
      });
    });
  }

  it("keys votes by proposal and voting key, so the seed's proposal-voting-key-index is not built", () => {
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      TableName: "vettid-dev-votes",
      KeySchema: [
        { AttributeName: "proposal_id", KeyType: "HASH" },
        { AttributeName: "voting_public_key", KeyType: "RANGE" },
      ],
      GlobalSecondaryIndexes: Match.absent(),
    });
    expect(JSON.stringify(template.toJSON())).not.toContain("proposal-voting-key-index");
  });
});

describe("vault sealing key", () => {
  const statements = sealingKeyStatements();
  const measurement = config.attestation.measurements[0];

  it("lets the account administer the key but grants it no cryptographic action and no grants", () => {
    const admin = statements.find((s) => s.Sid === "AccountAdministersKeyWithoutUsingIt");
    if (admin === undefined) throw new Error("no administration statement");
    expect(admin.Effect).toBe("Allow");
    expect(flatten((admin.Principal as { AWS: unknown }).AWS)).toMatch(/:root$/);
    const granted = Array.isArray(admin.Action) ? admin.Action : [admin.Action];
    expect(granted.sort()).toEqual([...SEALING_KEY_ADMIN_ACTIONS].sort());
    expect(granted).toContain("kms:PutKeyPolicy");
    for (const action of CRYPTO_ACTIONS) {
      expect(
        granted.some((g) => covers(String(g), action)),
        action,
      ).toBe(false);
    }
  });

  it("allows Decrypt and GenerateDataKey only to the enclave host role with the accepted image and PCRs", () => {
    const allow = statements.filter((s) => s.Sid?.startsWith("AttestedEnclaveUnseals"));
    expect(allow).toHaveLength(1);
    expect(allow[0]?.Action).toEqual(["kms:Decrypt", "kms:GenerateDataKey"]);
    expect(flatten(allow[0]?.Condition?.ArnEquals?.["aws:PrincipalArn"])).toBe(
      `arn:<AWS::Partition>:iam::<AWS::AccountId>:role/${enclaveHostRoleName("dev")}`,
    );
    expect(allow[0]?.Condition?.StringEqualsIgnoreCase).toEqual({
      [IMAGE_SHA384_CONDITION]: measurement?.imageSha384,
      "kms:RecipientAttestation:PCR0": measurement?.imageSha384,
      "kms:RecipientAttestation:PCR1": measurement?.pcrs[1],
      "kms:RecipientAttestation:PCR2": measurement?.pcrs[2],
    });
  });

  it("has no statement that lets anyone decrypt without an attestation", () => {
    for (const statement of statements.filter((s) => s.Effect === "Allow")) {
      const list = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
      const decrypts = list.some((a) =>
        ["kms:Decrypt", "kms:GenerateDataKey"].some((c) => covers(a, c)),
      );
      if (decrypts) {
        expect(
          statement.Condition?.StringEqualsIgnoreCase?.[IMAGE_SHA384_CONDITION],
          statement.Sid,
        ).toBeDefined();
      }
    }
  });

  it("denies plaintext operations to every principal unless the image hash is an accepted one", () => {
    const deny = statements.find((s) => s.Sid === "DenyPlaintextWithoutAcceptedAttestation");
    expect(deny).toMatchObject({
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: ["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyPair"],
      Condition: {
        StringNotEqualsIgnoreCase: { [IMAGE_SHA384_CONDITION]: [measurement?.imageSha384] },
      },
    });
    expect(statements.find((s) => s.Sid === "DenyReEncrypt")).toMatchObject({
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: "kms:ReEncrypt*",
    });
  });

  it("is rotated and retained", () => {
    template.hasResource("AWS::KMS::Key", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({
        Description: Match.stringLikeRegexp("^Vault sealing key"),
        EnableKeyRotation: true,
      }),
    });
  });

  it("accepts two builds during a rollout, each as its own exact statement", () => {
    const second = "ab".repeat(48);
    const rollout = configFor("dev", (raw) => {
      const attestation = raw.attestation as { measurements: unknown[] };
      attestation.measurements.push({ label: "next", imageSha384: second, pcrs: {} });
    });
    const t = Template.fromStack(buildStacks(rollout).stacks.infrastructure);
    const s = sealingKeyStatements(t);
    const allows = s.filter((x) => x.Sid?.startsWith("AttestedEnclaveUnseals"));
    expect(
      allows.map((x) => x.Condition?.StringEqualsIgnoreCase?.[IMAGE_SHA384_CONDITION]),
    ).toEqual([measurement?.imageSha384, second]);
    expect(
      s.find((x) => x.Sid === "DenyPlaintextWithoutAcceptedAttestation")?.Condition
        ?.StringNotEqualsIgnoreCase?.[IMAGE_SHA384_CONDITION],
    ).toEqual([measurement?.imageSha384, second]);
  });
});

describe("signing keys", () => {
  it("are ECDSA P-256 signing keys in KMS, retained", () => {
    const keys = template.findResources("AWS::KMS::Key", {
      Properties: { KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" },
    });
    expect(Object.keys(keys)).toHaveLength(2);
    for (const key of Object.values(keys)) expect(key.DeletionPolicy).toBe("Retain");
    template.hasResourceProperties("AWS::KMS::Alias", {
      AliasName: "alias/vettid-dev-proposal-signing",
    });
    template.hasResourceProperties("AWS::KMS::Alias", {
      AliasName: "alias/vettid-dev-subscription-signing",
    });
  });
});

describe("S3 buckets", () => {
  const buckets = template.findResources("AWS::S3::Bucket");
  const byPurpose = (purpose: string) => {
    const found = Object.entries(buckets).find(([, b]) =>
      flatten(b.Properties.BucketName).startsWith(`vettid-dev-${purpose}-`),
    );
    if (found === undefined) throw new Error(`no ${purpose} bucket`);
    return found;
  };

  it("blocks public access, encrypts, disables ACLs and retains every bucket", () => {
    expect(Object.keys(buckets)).toHaveLength(5);
    for (const bucket of Object.values(buckets)) {
      expect(bucket.DeletionPolicy).toBe("Retain");
      expect(bucket.Properties).toMatchObject({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } },
          ],
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] },
      });
    }
  });

  it("versions vault blobs, vote lists, backups and artifacts, and logs access to them", () => {
    for (const purpose of ["vault-blobs", "vote-lists", "backups", "artifacts"]) {
      const [, bucket] = byPurpose(purpose);
      expect(bucket.Properties.VersioningConfiguration, purpose).toEqual({ Status: "Enabled" });
      expect(bucket.Properties.LoggingConfiguration?.LogFilePrefix, purpose).toBeDefined();
    }
  });

  it("refuses plain HTTP and TLS below 1.2 in every bucket policy", () => {
    const policies = Object.values(template.findResources("AWS::S3::BucketPolicy"));
    expect(policies).toHaveLength(5);
    for (const policy of policies) {
      const statements = policy.Properties.PolicyDocument.Statement as TemplateStatement[];
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: "Deny",
          Principal: { AWS: "*" },
          Action: "s3:*",
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        }),
      );
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: "Deny",
          Action: "s3:*",
          Condition: { NumericLessThan: { "s3:TlsVersion": 1.2 } },
        }),
      );
    }
  });
});

describe("the stack", () => {
  it("is termination-protected and keeps the NATS secrets on removal", () => {
    expect(stacks.infrastructure.terminationProtection).toBe(true);
    const secrets = template.findResources("AWS::SecretsManager::Secret");
    expect(
      Object.values(secrets)
        .map((s) => s.Properties.Name)
        .sort(),
    ).toEqual(
      ["backend-user", "member-signing-key", "parent-user", "server-config", "tls"].map(
        (n) => `vettid/dev/nats/${n}`,
      ),
    );
    for (const secret of Object.values(secrets)) expect(secret.DeletionPolicy).toBe("Retain");
  });
});
