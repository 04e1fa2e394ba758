/**
 * The backend's NATS worker process (ECS Fargate in AWS; `npm start` runs the same workers
 * in-process): the control audit trail and, when configured, voting (vote intake, subscription
 * statements, vote-list publication every minute; `voting-workers.ts`).
 *
 * Configuration, checked at start: `VETTID_ENVIRONMENT`, `VETTID_NATS_URLS`,
 * `VETTID_SECRET_NATS_BACKEND_USER_ARN` (the backend user's `.creds`; `…_FILE` in development),
 * `VETTID_OPERATOR_KEYS_FILE` (the pinned operator control keys, the enclave's file format);
 * `VETTID_DYNAMODB_ENDPOINT` in development. The operator signing key is kept offline in AWS, so
 * this process records revocations and applies them to refreshes and members; the account JWT
 * is re-signed by the operators' tooling (docs/http-api.md, "Revocation").
 *
 * Voting, checked at start too: `VETTID_KMS_PROPOSAL_KEY_ARN`, `VETTID_KMS_SUBSCRIPTION_KEY_ARN`,
 * `VETTID_BUCKET_VOTE_LISTS` (+ `_PREFIX`), `VETTID_VOTE_LISTS_PUBLIC_URL`,
 * `VETTID_ENCLAVE_PCR_SETS`. All or none; none = no voting, refused in production.
 *
 * Runs until SIGTERM or SIGINT, then stops the publication timer (a round in progress finishes),
 * unsubscribes, lets the messages in hand finish, and exits.
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
import { readVotingWorkerConfig, startVotingWorkersFromConfig } from "./voting-workers.js";

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
  const votingConfig = readVotingWorkerConfig(env, common);
  const connection = await connect({
    servers,
    name: `vettid-${common.environment}-workers`,
    // The creds parser needs the line break after the last marker, which secret text may have lost.
    authenticator: credsAuthenticator(new TextEncoder().encode(`${creds.trimEnd()}\n`)),
    maxReconnectAttempts: -1,
  });
  const dynamo = {
    client: createDynamoClient(
      common.dynamoEndpoint === undefined ? {} : { endpoint: common.dynamoEndpoint },
    ),
    environment: common.environment,
  };
  const workers = startBackendWorkers({ connection, dynamo, operatorKeys, logger });
  const voting =
    votingConfig === undefined
      ? undefined
      : await startVotingWorkersFromConfig(votingConfig, { connection, dynamo, logger });
  logger.info("workers.started", {
    environment: common.environment,
    keys: operatorKeys.size,
    voting: voting !== undefined,
  });
  const stop = async () => {
    await Promise.all([workers.close(), voting?.close()]);
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
