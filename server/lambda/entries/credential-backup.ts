/**
 * Lambda entry of `vettid.backup.v1.CredentialBackupService` (API Gateway HTTP API, payload 2.0).
 * Configuration, checked at cold start: `VETTID_ENVIRONMENT`, `VETTID_BUCKET_BACKUPS` and
 * `VETTID_BUCKET_BACKUPS_PREFIX` (the S3 bucket and key prefix of the encrypted backups); in
 * development `VETTID_SECRET_DEV_ACCOUNT_TOKEN_KEY_FILE` (dev account sign-in),
 * `VETTID_ALLOW_UNATTESTED_DEVICES`, `VETTID_DYNAMODB_ENDPOINT`. Account sign-in verification for
 * production (Cognito) is not built yet: without the dev key, RequestRecovery answers
 * `unauthenticated`.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { Code, ConnectError } from "@connectrpc/connect";
import { CredentialBackupService } from "../../../gen/vettid/backup/v1/credential_backup_pb.js";
import { credentialBackupService } from "../../backend/index.js";
import {
  developmentOnly,
  readCommonConfig,
  readSecret,
  readSecretReference,
  required,
} from "../../config/index.js";
import {
  type AccountAuthenticator,
  createDevAccountAuthenticator,
  createLoggingRecoveryNotifier,
} from "../../credential-backup/index.js";
import { createHttpApi } from "../../http/index.js";
import { createConsoleLogger } from "../../logging/index.js";
import { createS3BlobStore } from "../../storage/index.js";
import { createApiGatewayHandler } from "../api-gateway-adapter.js";
import { lambdaServiceContext } from "../lambda-context.js";

const env = process.env;
const common = readCommonConfig(env);
const logger = createConsoleLogger("credential-backup");
const blobs = createS3BlobStore({
  client: new S3Client({}),
  bucket: required(env, "VETTID_BUCKET_BACKUPS"),
  keyPrefix: env.VETTID_BUCKET_BACKUPS_PREFIX ?? "",
});
const devKeyConfigured =
  env.VETTID_SECRET_DEV_ACCOUNT_TOKEN_KEY_FILE !== undefined ||
  env.VETTID_SECRET_DEV_ACCOUNT_TOKEN_KEY_ARN !== undefined;
if (devKeyConfigured) developmentOnly(common.production, "VETTID_SECRET_DEV_ACCOUNT_TOKEN_KEY_*");
const accounts: AccountAuthenticator = devKeyConfigured
  ? createDevAccountAuthenticator(
      Buffer.from(
        await readSecret(readSecretReference(env, "devAccountTokenKey", common.production)),
        "hex",
      ),
    )
  : {
      async authenticate() {
        throw new ConnectError(
          "account sign-in cannot be verified by this deployment yet",
          Code.Unauthenticated,
        );
      },
    };

/** The Lambda handler. */
export const handler = createApiGatewayHandler(
  createHttpApi({
    logger,
    routes: (router) =>
      router.service(
        CredentialBackupService,
        credentialBackupService(lambdaServiceContext(common, env, logger), {
          blobs,
          accounts,
          notifier: createLoggingRecoveryNotifier(logger),
        }),
      ),
  }),
);
