import { Arn, ArnFormat, Stack } from "aws-cdk-lib";
import { type IGrantable, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { ISecret } from "aws-cdk-lib/aws-secretsmanager";
import type { IConstruct } from "constructs";
import { TABLES, type TableKey, tableName } from "../../../server/storage/tables.js";
import type {
  Access,
  BucketKey,
  ResourceAccess,
  SecretKey,
  SigningKeyKey,
} from "../config/backend-access.js";
import { bucketName } from "../config/names.js";
import { flattenForNag, suppress } from "./nag.js";

/** Item reads. `Scan` counts as a read: listings over small tables may use it. */
export const TABLE_READ_ACTIONS: readonly string[] = [
  "dynamodb:DescribeTable",
  "dynamodb:GetItem",
  "dynamodb:BatchGetItem",
  "dynamodb:Query",
  "dynamodb:Scan",
  "dynamodb:ConditionCheckItem",
];

/** Item writes (transactions are authorised item by item with these). No table administration. */
export const TABLE_WRITE_ACTIONS: readonly string[] = [
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
];

/** Object reads, including earlier versions (versioned buckets). */
export const OBJECT_READ_ACTIONS: readonly string[] = ["s3:GetObject", "s3:GetObjectVersion"];

/**
 * Object writes. `s3:DeleteObject` on a versioned bucket only adds a delete marker; nobody gets
 * `s3:DeleteObjectVersion`, so no grant here can destroy data.
 */
export const OBJECT_WRITE_ACTIONS: readonly string[] = ["s3:PutObject", "s3:DeleteObject"];

/** Signing with a backend key, and reading its public key (to compute the key id). */
export const SIGNING_ACTIONS: readonly string[] = ["kms:Sign", "kms:GetPublicKey"];

/** Reading a secret's current value. */
export const SECRET_READ_ACTIONS: readonly string[] = [
  "secretsmanager:GetSecretValue",
  "secretsmanager:DescribeSecret",
];

/**
 * What the backend's grants refer to. Tables and buckets have names known before deployment
 * (`tableName`, `bucketName`), so their ARNs are built in the granting stack; keys and secrets
 * have generated ARNs and come from the Infrastructure stack.
 */
export interface BackendResources {
  readonly environmentName: string;
  readonly signingKeys: Readonly<Record<SigningKeyKey, IKey>>;
  readonly secrets: Readonly<Record<SecretKey, ISecret>>;
}

/** A table's ARN in `scope`'s account and region. */
export function tableArn(scope: IConstruct, environment: string, table: TableKey): string {
  return Arn.format(
    { service: "dynamodb", resource: "table", resourceName: tableName(environment, table) },
    Stack.of(scope),
  );
}

/** A bucket's name in `scope`'s account and region. */
export function bucketNameIn(scope: IConstruct, environment: string, bucket: BucketKey): string {
  const stack = Stack.of(scope);
  return bucketName(environment, bucket, stack.account, stack.region);
}

/** A bucket's ARN in `scope`'s account and region. */
export function bucketArn(scope: IConstruct, environment: string, bucket: BucketKey): string {
  return Arn.format(
    {
      service: "s3",
      region: "",
      account: "",
      resource: bucketNameIn(scope, environment, bucket),
      arnFormat: ArnFormat.NO_RESOURCE_NAME,
    },
    Stack.of(scope),
  );
}

/**
 * Grants a table's item reads, or reads and writes, on the table and on each of its indexes by
 * name (no `index/*`), as `server/storage/tables.ts` declares them.
 */
export function grantTable(
  grantee: IGrantable & IConstruct,
  environment: string,
  table: TableKey,
  access: Access,
): void {
  const arn = tableArn(grantee, environment, table);
  const def = TABLES[table] as { readonly globalIndexes?: readonly { readonly name: string }[] };
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: [...TABLE_READ_ACTIONS, ...(access === "readWrite" ? TABLE_WRITE_ACTIONS : [])],
      resources: [arn, ...(def.globalIndexes ?? []).map((index) => `${arn}/index/${index.name}`)],
    }),
  );
}

/**
 * Grants object reads (or reads and writes) under a key prefix and listing of that prefix, and
 * acknowledges the one wildcard this needs (`{bucket}/{prefix}*`) on `grantee` by its exact
 * finding id, so no other wildcard can slip through under the same acknowledgement.
 */
export function grantBucket(
  grantee: IGrantable & IConstruct,
  environment: string,
  bucket: BucketKey,
  access: Access,
  prefix: string,
): void {
  const arn = bucketArn(grantee, environment, bucket);
  const objects = `${arn}/${prefix}*`;
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: [...OBJECT_READ_ACTIONS, ...(access === "readWrite" ? OBJECT_WRITE_ACTIONS : [])],
      resources: [objects],
    }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ["s3:ListBucket"],
      resources: [arn],
      ...(prefix === "" ? {} : { conditions: { StringLike: { "s3:prefix": [`${prefix}*`] } } }),
    }),
  );
  suppress(grantee, [
    [
      `AwsSolutions-IAM5[Resource::${flattenForNag(Stack.of(grantee).resolve(objects))}]`,
      `Objects are per member or per proposal and created at run time; the grant is limited to ${prefix === "" ? "this single-purpose bucket" : `the ${prefix} prefix`} (backend-access.ts).`,
    ],
  ]);
}

/**
 * Grants everything a {@link ResourceAccess} lists, as explicit statements (not CDK's `grant*`
 * helpers, whose action lists are broader and change between versions).
 */
export function grantResourceAccess(
  grantee: IGrantable & IConstruct,
  access: ResourceAccess,
  resources: BackendResources,
): void {
  for (const [table, level] of Object.entries(access.tables) as [TableKey, Access][]) {
    grantTable(grantee, resources.environmentName, table, level);
  }
  for (const [bucket, grant] of Object.entries(access.buckets)) {
    if (grant !== undefined) {
      grantBucket(
        grantee,
        resources.environmentName,
        bucket as BucketKey,
        grant.access,
        grant.prefix,
      );
    }
  }
  if (access.signingKeys.length > 0) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [...SIGNING_ACTIONS],
        resources: access.signingKeys.map((key) => resources.signingKeys[key].keyArn),
      }),
    );
  }
  if (access.secrets.length > 0) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [...SECRET_READ_ACTIONS],
        resources: access.secrets.map((secret) => resources.secrets[secret].secretArn),
      }),
    );
  }
}
