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
}

/**
 * Reads a secret's text. Secrets Manager secrets are read through the AWS Parameters and Secrets
 * Lambda Extension (`GET http://localhost:2773/secretsmanager/get?secretId=<arn>` with the
 * function's session token), which caches them and needs no SDK client in the bundle; the
 * function must have the extension layer and `secretsmanager:GetSecretValue` on the ARN. Files
 * (development) are read as they are. Throws {@link ConfigurationError} naming the reference,
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
  const port = Number(env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT ?? DEFAULT_SECRETS_EXTENSION_PORT);
  const token = env.AWS_SESSION_TOKEN;
  if (token === undefined) {
    throw new ConfigurationError(
      `secret ${reference.arn}: no AWS_SESSION_TOKEN, so the secrets extension cannot be asked (not running in Lambda?)`,
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
