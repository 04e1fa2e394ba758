import { readFile } from "node:fs/promises";
import { ConfigurationError } from "./configuration-error.js";
import type { SecretReference } from "./environment-variables.js";

/**
 * Port of the AWS Parameters and Secrets Lambda Extension's local HTTP endpoint: its documented
 * default, 2773, unless the extension's own `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT` says
 * otherwise.
 */
export const DEFAULT_SECRETS_EXTENSION_PORT = 2773;

/** Options of {@link readSecret}. */
export interface ReadSecretOptions {
  /** The process environment (for the extension's port and the session token). Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** `fetch`, for tests. Default the global one. */
  readonly fetch?: typeof fetch;
  /**
   * Reads a secret from Secrets Manager outside Lambda (the workers on ECS Fargate, with the task
   * role). Default: the AWS SDK's `GetSecretValue`. Tests pass their own: AWS cannot run here.
   */
  readonly secretsManager?: (arn: string) => Promise<string | undefined>;
}

/** `GetSecretValue` with the default credential chain (the ECS task role on Fargate). */
async function getSecretValue(arn: string): Promise<string | undefined> {
  // Loaded only where used: Lambda bundles read through the extension and need no client.
  const { GetSecretValueCommand, SecretsManagerClient } = await import(
    "@aws-sdk/client-secrets-manager"
  );
  const client = new SecretsManagerClient({});
  try {
    return (await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString;
  } finally {
    client.destroy();
  }
}

/**
 * Reads a secret's text. In Lambda (`AWS_LAMBDA_FUNCTION_NAME` set), Secrets Manager secrets are
 * read through the AWS Parameters and Secrets Lambda Extension
 * (`GET http://localhost:2773/secretsmanager/get?secretId=<arn>` with the function's session
 * token), which caches them and needs no SDK client in the bundle; the function must have the
 * extension layer. Elsewhere (the workers on ECS Fargate, which have no extension) they are read
 * with the SDK's `GetSecretValue` and the task role. Either way the role needs
 * `secretsmanager:GetSecretValue` on the ARN. Files (development) are read as they are. Throws {@link ConfigurationError} naming the reference,
 * never the secret.
 */
export async function readSecret(
  reference: SecretReference,
  options: ReadSecretOptions = {},
): Promise<string> {
  if (reference.kind === "file") {
    try {
      return (await readFile(reference.path, "utf8")).trim();
    } catch (error) {
      throw new ConfigurationError(
        `secret file ${reference.path} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
  }
  const env = options.env ?? process.env;
  if (env.AWS_LAMBDA_FUNCTION_NAME === undefined) {
    let value: string | undefined;
    try {
      value = await (options.secretsManager ?? getSecretValue)(reference.arn);
    } catch (error) {
      throw new ConfigurationError(
        `secret ${reference.arn}: Secrets Manager refused (${(error as Error).name}); does the task role have secretsmanager:GetSecretValue on it?`,
      );
    }
    if (typeof value !== "string") {
      throw new ConfigurationError(`secret ${reference.arn} has no SecretString`);
    }
    return value.trim();
  }
  const port = Number(env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT ?? DEFAULT_SECRETS_EXTENSION_PORT);
  const token = env.AWS_SESSION_TOKEN;
  if (token === undefined) {
    throw new ConfigurationError(
      `secret ${reference.arn}: no AWS_SESSION_TOKEN, so the secrets extension cannot be asked`,
    );
  }
  const response = await (options.fetch ?? fetch)(
    `http://localhost:${port}/secretsmanager/get?secretId=${encodeURIComponent(reference.arn)}`,
    { headers: { "X-Aws-Parameters-Secrets-Token": token } },
  ).catch((error: unknown) => {
    throw new ConfigurationError(
      `secret ${reference.arn}: the secrets extension did not answer (${(error as Error).message}); is its layer attached?`,
    );
  });
  if (!response.ok) {
    throw new ConfigurationError(
      `secret ${reference.arn}: the secrets extension answered ${response.status}`,
    );
  }
  const body = (await response.json()) as { SecretString?: unknown };
  if (typeof body.SecretString !== "string") {
    throw new ConfigurationError(`secret ${reference.arn} has no SecretString`);
  }
  return body.SecretString.trim();
}
