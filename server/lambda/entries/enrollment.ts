/**
 * Lambda entry of `vettid.enrollment.v1.EnrollmentService` (API Gateway HTTP API, payload 2.0).
 * Configuration is read and checked at cold start (a mistake fails the init, loudly):
 * `VETTID_ENVIRONMENT`, `VETTID_NATS_URLS` (and `VETTID_MEMBER_NATS_URLS` for apps, default the
 * same), `VETTID_NATS_ACCOUNT_PUBLIC_KEY`, `VETTID_ENCLAVE_PCR_SETS`, the secrets
 * `VETTID_SECRET_NATS_MEMBER_SIGNING_KEY_ARN` and `VETTID_SECRET_NATS_BACKEND_USER_ARN`; in
 * development also `VETTID_ALLOW_DEV_ROOT` + `VETTID_DEV_ROOT_SHA256`,
 * `VETTID_ALLOW_UNATTESTED_DEVICES`, `VETTID_DYNAMODB_ENDPOINT`, `…_FILE` secrets.
 */
import { EnrollmentService } from "../../../gen/vettid/enrollment/v1/enrollment_pb.js";
import { enrollmentService } from "../../backend/index.js";
import {
  ENV_MEMBER_NATS_URLS,
  ENV_NATS_ACCOUNT_PUBLIC_KEY,
  readCommonConfig,
  readEnclaveTrust,
  readNatsUrls,
  readPublicNkey,
  readSecret,
  readSecretReference,
} from "../../config/index.js";
import { createHttpApi } from "../../http/index.js";
import { createConsoleLogger } from "../../logging/index.js";
import { createApiGatewayHandler } from "../api-gateway-adapter.js";
import { lambdaServiceContext, memberSigningKeyFromSecret } from "../lambda-context.js";
import { createLazyEnclaveGateway } from "../lazy-enclave-gateway.js";
import { createLazyNatsConnection } from "../lazy-nats-connection.js";

const env = process.env;
const common = readCommonConfig(env);
const logger = createConsoleLogger("enrollment");
const natsUrls = readNatsUrls(env);
const memberNatsUrls =
  env[ENV_MEMBER_NATS_URLS] === undefined ? natsUrls : readNatsUrls(env, ENV_MEMBER_NATS_URLS);
const accountPublicKey = readPublicNkey(env, ENV_NATS_ACCOUNT_PUBLIC_KEY, "A");
const trust = readEnclaveTrust(env, common.production);
const memberSigningKey = memberSigningKeyFromSecret(
  await readSecret(readSecretReference(env, "natsMemberSigningKey", common.production)),
);
const nats = createLazyNatsConnection({
  servers: natsUrls,
  creds: await readSecret(readSecretReference(env, "natsBackendUser", common.production)),
  name: `vettid-${common.environment}-enrollment`,
});

/** The Lambda handler. */
export const handler = createApiGatewayHandler(
  createHttpApi({
    logger,
    routes: (router) =>
      router.service(
        EnrollmentService,
        enrollmentService(lambdaServiceContext(common, env, logger), {
          enclave: createLazyEnclaveGateway(nats, { trust, logger }),
          keys: { accountPublicKey, memberSigningKey, memberNatsUrls },
        }),
      ),
  }),
);
