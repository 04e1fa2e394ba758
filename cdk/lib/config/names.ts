/**
 * Physical names that more than one stack (or something outside CDK: the runbooks, the
 * deployment scripts, the services) must agree on. Everything else is named by CloudFormation.
 */

/** The prefix of every named resource of an environment: `vettid-{environment}`. */
export function resourcePrefix(environment: string): string {
  return `vettid-${environment}`;
}

/** A stack's name: `vettid-{environment}-{concern}`. */
export function stackName(environment: string, concern: string): string {
  return `${resourcePrefix(environment)}-${concern}`;
}

/**
 * The enclave hosts' IAM role. The sealing key policy names it by ARN (`aws:PrincipalArn`), so
 * the name is fixed rather than generated.
 */
export function enclaveHostRoleName(environment: string): string {
  return `${resourcePrefix(environment)}-enclave-host`;
}

/** The Secrets Manager name of a NATS secret: `vettid/{environment}/nats/{kebab-name}`. */
export function natsSecretName(environment: string, name: string): string {
  return `vettid/${environment}/nats/${name}`;
}

/** The S3 buckets' purposes, as they appear in the bucket names. */
export const BUCKET_PURPOSES = {
  vaultBlobs: "vault-blobs",
  voteLists: "vote-lists",
  backups: "backups",
  artifacts: "artifacts",
  accessLogs: "access-logs",
} as const;

/** The longest bucket purpose, for the name-length check. */
export const LONGEST_BUCKET_PURPOSE = Math.max(
  ...Object.values(BUCKET_PURPOSES).map((purpose) => purpose.length),
);

/**
 * A bucket's name: `vettid-{environment}-{purpose}-{account}-{region}`, globally unique and
 * known before deployment, so other stacks' policies name it exactly (no cross-stack export,
 * and a cdk-nag finding on a prefix grant reads as the bucket it is about). `account` may be
 * the `AWS::AccountId` token for environment-agnostic stacks.
 */
export function bucketName(
  environment: string,
  bucket: keyof typeof BUCKET_PURPOSES,
  account: string,
  region: string,
): string {
  return `${resourcePrefix(environment)}-${BUCKET_PURPOSES[bucket]}-${account}-${region}`;
}

/** Where a release's artifacts live in the artifacts bucket. */
export function releasePrefix(version: string): string {
  return `releases/${version}/`;
}

/** The enclave image file of a release (in {@link releasePrefix}). */
export const ENCLAVE_IMAGE_FILE = "vettid-enclave.eif";

/** The application bundle of a release (in {@link releasePrefix}): the checkout with `node_modules`. */
export const APP_BUNDLE_FILE = "vettid-app.tar.gz";

/** CloudWatch namespace of the enclave's metrics (Embedded Metric Format from the supervisor). */
export const ENCLAVE_METRICS_NAMESPACE = "VettID/Enclave";

/** The dimension the enclave's metrics carry. */
export const ENCLAVE_METRICS_DIMENSION = "EnclaveId";
