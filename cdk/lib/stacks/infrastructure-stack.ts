import { Arn, CfnOutput, RemovalPolicy, SecretValue, Stack, type StackProps } from "aws-cdk-lib";
import {
  AttributeType,
  BillingMode,
  type ITable,
  Table,
  TableEncryption,
} from "aws-cdk-lib/aws-dynamodb";
import { Repository, TagMutability } from "aws-cdk-lib/aws-ecr";
import { Key, KeySpec, KeyUsage } from "aws-cdk-lib/aws-kms";
import type { Bucket } from "aws-cdk-lib/aws-s3";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import type { Construct } from "constructs";
import {
  type KeyAttribute,
  TABLES,
  type TableKey,
  tableName,
} from "../../../server/storage/tables.js";
import type { BucketKey, SecretKey, SigningKeyKey } from "../config/backend-access.js";
import type { EnvironmentConfig } from "../config/environment-config.js";
import {
  bucketName,
  enclaveHostRoleName,
  natsSecretName,
  resourcePrefix,
} from "../config/names.js";
import { suppress } from "../constructs/nag.js";
import { ProtectedBucket } from "../constructs/protected-bucket.js";
import { sealingKeyPolicy } from "../constructs/sealing-key-policy.js";

/** Props of {@link InfrastructureStack}. */
export interface InfrastructureStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/**
 * Noncurrent versions of vault blobs are kept 35 days: long enough to recover from a bad write
 * or a bad release noticed within a month (plus a weekend), short enough that a vault deleted on a
 * member's request is gone within the month.
 */
export const VAULT_BLOB_NONCURRENT_DAYS = 35;

/** Old artifact versions go after 90 days: releases are immutable folders, overwrites are mistakes. */
export const ARTIFACT_NONCURRENT_DAYS = 90;

/** What each NATS secret holds (its description in Secrets Manager). */
const SECRET_PURPOSES: Readonly<Record<SecretKey, string>> = {
  natsMemberSigningKey:
    "Seed of the VETTID account's scoped member signing key (mints member users for enrollment and refresh).",
  natsBackendUser: "Backend service user: NATS .creds text (JWT and seed).",
  natsParentUser: "Enclave hosts' parent user: NATS .creds text (JWT and seed).",
  natsServerConfig:
    "nats-server operator-mode text from operatorModeConfig(): operator JWT, system account, resolver preload (latest account JWTs).",
  natsTls: 'nats-server TLS: JSON {"cert": PEM chain, "key": PEM private key}.',
};

/** The secret's name under `vettid/{env}/nats/`. */
const SECRET_NAMES: Readonly<Record<SecretKey, string>> = {
  natsMemberSigningKey: "member-signing-key",
  natsBackendUser: "backend-user",
  natsParentUser: "parent-user",
  natsServerConfig: "server-config",
  natsTls: "tls",
};

/** Placeholder value of a NATS secret until an operator puts the real one (deploy.md). */
export const UNSET_SECRET_VALUE = "UNSET: put the value with aws secretsmanager put-secret-value";

function attribute(key: KeyAttribute): { name: string; type: AttributeType } {
  const types = { S: AttributeType.STRING, N: AttributeType.NUMBER, B: AttributeType.BINARY };
  return { name: key.name, type: types[key.type] };
}

/**
 * The stateful resources: DynamoDB tables, KMS keys, S3 buckets, the NATS secrets and the app
 * image repository. Termination-protected, every resource retained when removed from the app, so
 * no deployment of the stateless stacks can lose data.
 */
export class InfrastructureStack extends Stack {
  /** The environment name (tables and buckets are named from it). */
  readonly environmentName: string;
  /** Every table of `server/storage/tables.ts`, by logical name. */
  readonly tables: Readonly<Record<TableKey, ITable>>;
  /** The buckets, by logical name. */
  readonly buckets: Readonly<Record<BucketKey, Bucket>>;
  /** Server access logs of every other bucket. */
  readonly accessLogsBucket: Bucket;
  /** ECDSA P-256 signing keys (proposals and vote-list heads; subscription statements). */
  readonly signingKeys: Readonly<Record<SigningKeyKey, Key>>;
  /** The vault sealing key: usable only by an attested enclave. */
  readonly sealingKey: Key;
  /** The NATS credentials model's secrets. */
  readonly secrets: Readonly<Record<SecretKey, Secret>>;
  /** The app image (backend workers), tagged with the release version. */
  readonly appRepository: Repository;

  constructor(scope: Construct, id: string, props: InfrastructureStackProps) {
    super(scope, id, { ...props, terminationProtection: true });
    const { config } = props;
    const prefix = resourcePrefix(config.name);
    this.environmentName = config.name;
    const named = (bucket: BucketKey | "accessLogs") =>
      bucketName(config.name, bucket, this.account, this.region);

    const tables = {} as Record<TableKey, ITable>;
    for (const [key, def] of Object.entries(TABLES) as [TableKey, (typeof TABLES)[TableKey]][]) {
      const table = new Table(this, `Table-${def.suffix}`, {
        tableName: tableName(config.name, key),
        partitionKey: attribute(def.partitionKey),
        ...("sortKey" in def ? { sortKey: attribute(def.sortKey) } : {}),
        ...("timeToLiveAttribute" in def ? { timeToLiveAttribute: def.timeToLiveAttribute } : {}),
        billingMode: BillingMode.PAY_PER_REQUEST,
        encryption: TableEncryption.AWS_MANAGED,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      for (const index of "globalIndexes" in def ? def.globalIndexes : []) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: attribute(index.partitionKey),
          ...("sortKey" in index ? { sortKey: attribute(index.sortKey) } : {}),
        });
      }
      tables[key] = table;
    }
    this.tables = tables;

    this.accessLogsBucket = new ProtectedBucket(this, "AccessLogs", {
      bucketName: named("accessLogs"),
      versioned: false,
    }).bucket;
    const accessLogs = this.accessLogsBucket;
    this.buckets = {
      vaultBlobs: new ProtectedBucket(this, "VaultBlobs", {
        bucketName: named("vaultBlobs"),
        versioned: true,
        accessLogs,
        noncurrentVersionExpirationDays: VAULT_BLOB_NONCURRENT_DAYS,
      }).bucket,
      voteLists: new ProtectedBucket(this, "VoteLists", {
        bucketName: named("voteLists"),
        versioned: true,
        accessLogs,
      }).bucket,
      backups: new ProtectedBucket(this, "Backups", {
        bucketName: named("backups"),
        versioned: true,
        accessLogs,
      }).bucket,
      artifacts: new ProtectedBucket(this, "Artifacts", {
        bucketName: named("artifacts"),
        versioned: true,
        accessLogs,
        noncurrentVersionExpirationDays: ARTIFACT_NONCURRENT_DAYS,
      }).bucket,
    };

    const signingKey = (name: string, description: string) =>
      new Key(this, `${name}SigningKey`, {
        alias: `alias/${prefix}-${name.toLowerCase()}-signing`,
        description,
        keySpec: KeySpec.ECC_NIST_P256,
        keyUsage: KeyUsage.SIGN_VERIFY,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    this.signingKeys = {
      proposal: signingKey(
        "Proposal",
        "VettID org key: signs proposals and vote-list heads (ECDSA P-256 / SHA-256).",
      ),
      subscription: signingKey(
        "Subscription",
        "VettID subscription key: signs subscription statements (ECDSA P-256 / SHA-256).",
      ),
    };

    this.sealingKey = new Key(this, "VaultSealingKey", {
      alias: `alias/${prefix}-vault-sealing`,
      description:
        "Vault sealing key: Decrypt/GenerateDataKey only with a recipient attestation of an accepted enclave build.",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      policy: sealingKeyPolicy({
        enclaveHostRoleArn: Arn.format(
          {
            service: "iam",
            region: "",
            resource: "role",
            resourceName: enclaveHostRoleName(config.name),
          },
          this,
        ),
        measurements: config.attestation.measurements,
      }),
    });

    const secrets = {} as Record<SecretKey, Secret>;
    for (const key of Object.keys(SECRET_NAMES) as SecretKey[]) {
      const secret = new Secret(this, `Secret-${SECRET_NAMES[key]}`, {
        secretName: natsSecretName(config.name, SECRET_NAMES[key]),
        description: SECRET_PURPOSES[key],
        secretStringValue: SecretValue.unsafePlainText(UNSET_SECRET_VALUE),
        removalPolicy: RemovalPolicy.RETAIN,
      });
      suppress(secret, [
        [
          "AwsSolutions-SMG4",
          "NATS keys and JWTs rotate by re-issuing them with the operators' offline keys (docs/operations/deploy.md), not by a Secrets Manager rotation Lambda.",
        ],
      ]);
      secrets[key] = secret;
    }
    this.secrets = secrets;

    this.appRepository = new Repository(this, "AppRepository", {
      repositoryName: `${prefix}-app`,
      imageScanOnPush: true,
      imageTagMutability: TagMutability.IMMUTABLE,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    new CfnOutput(this, "ArtifactsBucketName", {
      value: this.buckets.artifacts.bucketName,
      description: "Upload releases/{version}/vettid-enclave.eif and vettid-app.tar.gz here.",
    });
    new CfnOutput(this, "AppRepositoryUri", {
      value: this.appRepository.repositoryUri,
      description: "Push the app image tagged with the release version here.",
    });
    new CfnOutput(this, "VaultSealingKeyArn", { value: this.sealingKey.keyArn });
  }
}
