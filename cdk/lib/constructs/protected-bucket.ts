import { Duration, RemovalPolicy } from "aws-cdk-lib";
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectOwnership,
} from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";

/** Options of {@link ProtectedBucket}. */
export interface ProtectedBucketProps {
  /** The bucket's name (`bucketName()` in names.ts). */
  readonly bucketName: string;
  /** Keep every version of every object (vault blobs: conditional writes and recovery). */
  readonly versioned: boolean;
  /** Where server access logs go (prefix = the construct id); absent only for the log bucket itself. */
  readonly accessLogs?: IBucket;
  /** Delete noncurrent versions after this many days; absent = keep them. */
  readonly noncurrentVersionExpirationDays?: number;
}

/**
 * Minimum TLS version clients must use: 1.2. Every AWS SDK and the mobile platforms' HTTP stacks
 * speak it; older versions are refused by the bucket policy.
 */
export const DEFAULT_MINIMUM_TLS_VERSION = 1.2;

/**
 * An S3 bucket as every bucket of the system must be: public access blocked, TLS only (1.2+),
 * encrypted at rest (SSE-S3), ACLs disabled, server access logs kept, retained when the stack or
 * the resource is removed. What it stores is ciphertext or public data; the point is that no
 * configuration slip can expose it or lose it.
 */
export class ProtectedBucket extends Construct {
  /** The bucket. */
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: ProtectedBucketProps) {
    super(scope, id);
    this.bucket = new Bucket(this, "Bucket", {
      bucketName: props.bucketName,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: DEFAULT_MINIMUM_TLS_VERSION,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: props.versioned,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(props.accessLogs === undefined
        ? {}
        : { serverAccessLogsBucket: props.accessLogs, serverAccessLogsPrefix: `${id}/` }),
      lifecycleRules: [
        { abortIncompleteMultipartUploadAfter: Duration.days(7) },
        ...(props.noncurrentVersionExpirationDays === undefined
          ? []
          : [
              {
                noncurrentVersionExpiration: Duration.days(props.noncurrentVersionExpirationDays),
              },
            ]),
      ],
    });
  }
}
