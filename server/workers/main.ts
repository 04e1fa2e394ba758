/**
 * The backend's NATS worker process (ECS Fargate in AWS; `npm start` runs the same workers
 * in-process): today the control audit trail.
 *
 * Configuration, checked at start: `VETTID_ENVIRONMENT`, `VETTID_NATS_URLS`,
 * `VETTID_SECRET_NATS_BACKEND_USER_ARN` (the backend user's `.creds`; `…_FILE` in development),
 * `VETTID_OPERATOR_KEYS_FILE` (the pinned operator control keys, the enclave's file format);
 * `VETTID_DYNAMODB_ENDPOINT` in development. The operator signing key is kept offline in AWS, so
 * this process records revocations and applies them to refreshes and members; the account JWT
 * is re-signed by the operators' tooling (docs/http-api.md, "Revocation").
 *
 * Runs until SIGTERM or SIGINT, then unsubscribes, lets the messages in hand finish, and exits.
 */
import { connect, credsAuthenticator } from "nats";
import { readOperatorKeys } from "../../enclave/control/index.js";
import {
  ConfigurationError,
  ENV_OPERATOR_KEYS_FILE,
  readCommonConfig,
  readNatsUrls,
  readSecret,
  readSecretReference,
  required,
} from "../config/index.js";
import { createConsoleLogger, describeError } from "../logging/index.js";
import { createDynamoClient } from "../storage/index.js";
import { startBackendWorkers } from "./backend-workers.js";

const logger = createConsoleLogger("workers");
try {
  const env = process.env;
  const common = readCommonConfig(env);
  const servers = readNatsUrls(env);
  const creds = await readSecret(readSecretReference(env, "natsBackendUser", common.production));
  const operatorKeys = await readOperatorKeys(required(env, ENV_OPERATOR_KEYS_FILE));
  if (operatorKeys.size === 0) {
    throw new ConfigurationError(`${ENV_OPERATOR_KEYS_FILE} pins no operator key`);
  }
  const connection = await connect({
    servers,
    name: `vettid-${common.environment}-workers`,
    // The creds parser needs the line break after the last marker, which secret text may have lost.
    authenticator: credsAuthenticator(new TextEncoder().encode(`${creds.trimEnd()}\n`)),
    maxReconnectAttempts: -1,
  });
  const workers = startBackendWorkers({
    connection,
    dynamo: {
      client: createDynamoClient(
        common.dynamoEndpoint === undefined ? {} : { endpoint: common.dynamoEndpoint },
      ),
      environment: common.environment,
    },
    operatorKeys,
    logger,
  });
  logger.info("workers.started", { environment: common.environment, keys: operatorKeys.size });
  const stop = async () => {
    await workers.close();
    await connection.drain();
    logger.info("workers.stopped");
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
} catch (error) {
  logger.error("workers.start_failed", { error: describeError(error) });
  process.exit(error instanceof ConfigurationError ? 2 : 1);
}
