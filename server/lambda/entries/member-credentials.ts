/**
 * Lambda entry of `vettid.enrollment.v1.MemberCredentialService` (API Gateway HTTP API, payload
 * 2.0). Configuration, checked at cold start: `VETTID_ENVIRONMENT`, `VETTID_NATS_URLS` (or
 * `VETTID_MEMBER_NATS_URLS`: the URLs handed to apps), `VETTID_NATS_ACCOUNT_PUBLIC_KEY`,
 * `VETTID_SECRET_NATS_MEMBER_SIGNING_KEY_ARN`; in development `VETTID_DYNAMODB_ENDPOINT` and
 * `…_FILE` secrets. It never connects to NATS itself.
 */
import { MemberCredentialService } from "../../../gen/vettid/enrollment/v1/member_credential_pb.js";
import { memberCredentialService } from "../../backend/index.js";
import {
  ENV_MEMBER_NATS_URLS,
  ENV_NATS_ACCOUNT_PUBLIC_KEY,
  ENV_NATS_URLS,
  readCommonConfig,
  readNatsUrls,
  readPublicNkey,
  readSecret,
  readSecretReference,
} from "../../config/index.js";
import { createHttpApi } from "../../http/index.js";
import { createConsoleLogger } from "../../logging/index.js";
import { createApiGatewayHandler } from "../api-gateway-adapter.js";
import { lambdaServiceContext, memberSigningKeyFromSecret } from "../lambda-context.js";

const env = process.env;
const common = readCommonConfig(env);
const logger = createConsoleLogger("member-credentials");
const memberNatsUrls = readNatsUrls(
  env,
  env[ENV_MEMBER_NATS_URLS] === undefined ? ENV_NATS_URLS : ENV_MEMBER_NATS_URLS,
);
const accountPublicKey = readPublicNkey(env, ENV_NATS_ACCOUNT_PUBLIC_KEY, "A");
const memberSigningKey = memberSigningKeyFromSecret(
  await readSecret(readSecretReference(env, "natsMemberSigningKey", common.production)),
);

/** The Lambda handler. */
export const handler = createApiGatewayHandler(
  createHttpApi({
    logger,
    routes: (router) =>
      router.service(
        MemberCredentialService,
        memberCredentialService(lambdaServiceContext(common, env, logger), {
          keys: { accountPublicKey, memberSigningKey, memberNatsUrls },
        }),
      ),
  }),
);
