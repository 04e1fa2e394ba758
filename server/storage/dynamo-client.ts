import { DynamoDB } from "@aws-sdk/client-dynamodb";

/**
 * Attempts per DynamoDB call, the first included: the SDK's standard retry with backoff absorbs
 * short throttling; past three the caller's deadline matters more than another try, and the
 * service answers `unavailable` for the client to retry.
 */
export const DEFAULT_DYNAMO_MAX_ATTEMPTS = 3;

/** Options of {@link createDynamoClient}. */
export interface DynamoClientOptions {
  /**
   * Endpoint of a DynamoDB-compatible server, such as the local stack's dynalite
   * (`http://127.0.0.1:PORT`). Default: AWS's regional endpoint.
   */
  readonly endpoint?: string;
  /** AWS region. Default: the SDK's (AWS_REGION in Lambda); `local` with an endpoint. */
  readonly region?: string;
  /** Default {@link DEFAULT_DYNAMO_MAX_ATTEMPTS}. */
  readonly maxAttempts?: number;
}

/**
 * The DynamoDB client of the backend. With an `endpoint` (dynalite locally and in tests) it uses
 * fixed dummy credentials, so no AWS credentials are looked up and none can leak to a local
 * server; the request path is otherwise the same SDK code as in production. It is the aggregated
 * client (`DynamoDB`, a `DynamoDBClient` with a method per operation) because
 * rate-limiter-flexible's DynamoDB store calls those methods.
 */
export function createDynamoClient(options: DynamoClientOptions = {}): DynamoDB {
  const maxAttempts = options.maxAttempts ?? DEFAULT_DYNAMO_MAX_ATTEMPTS;
  if (options.endpoint === undefined) {
    return new DynamoDB({
      maxAttempts,
      ...(options.region === undefined ? {} : { region: options.region }),
    });
  }
  return new DynamoDB({
    endpoint: options.endpoint,
    region: options.region ?? "local",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts,
  });
}
