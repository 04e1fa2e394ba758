/**
 * Lambda entry of `vettid.voting.v1.ProposalService` (API Gateway HTTP API, payload 2.0).
 * Configuration, checked at cold start: `VETTID_ENVIRONMENT`, `VETTID_KMS_PROPOSAL_KEY_ARN` (the
 * org proposal key, ECDSA P-256 in KMS). Admin calls (CreateProposal, CloseProposal) need a bearer
 * token from the secret `VETTID_SECRET_ADMIN_TOKENS_ARN` (newline-separated tokens); without it
 * they are refused `unauthenticated` — the admin portal's sign-in (an identity provider) is a
 * production gap, written in server/README.md. Reads are public.
 */
import { KMSClient } from "@aws-sdk/client-kms";
import { Code, ConnectError } from "@connectrpc/connect";
import { ProposalService } from "../../../gen/vettid/voting/v1/proposal_service_pb.js";
import { readCommonConfig, readSecret, readSecretReference } from "../../config/index.js";
import { createHttpApi } from "../../http/index.js";
import { createConsoleLogger } from "../../logging/index.js";
import { createKmsSigner } from "../../signing/index.js";
import {
  type AdminAuthorizer,
  createProposalService,
  createProposalsTable,
  createStaticTokenAdminAuthorizer,
  createVoteListsTable,
} from "../../voting/index.js";
import { createApiGatewayHandler } from "../api-gateway-adapter.js";
import { lambdaServiceContext } from "../lambda-context.js";

const env = process.env;
const common = readCommonConfig(env);
const logger = createConsoleLogger("proposals");
const keyId = env.VETTID_KMS_PROPOSAL_KEY_ARN;
if (keyId === undefined || keyId === "") {
  throw new Error("VETTID_KMS_PROPOSAL_KEY_ARN is required (the org proposal signing key)");
}
const { dynamo } = lambdaServiceContext(common, env, logger);

async function adminAuthorizer(): Promise<AdminAuthorizer> {
  const configured =
    env.VETTID_SECRET_ADMIN_TOKENS_ARN !== undefined ||
    env.VETTID_SECRET_ADMIN_TOKENS_FILE !== undefined;
  if (!configured) {
    return async () => {
      throw new ConnectError(
        "admin sign-in is not configured in this deployment",
        Code.Unauthenticated,
      );
    };
  }
  const secret = await readSecret(readSecretReference(env, "adminTokens", common.production));
  const text = secret;
  return createStaticTokenAdminAuthorizer(
    text
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== ""),
  );
}

const authorizeAdmin = await adminAuthorizer();

/** The Lambda handler. */
export const handler = createApiGatewayHandler(
  createHttpApi({
    logger,
    routes: (router) =>
      router.service(
        ProposalService,
        createProposalService({
          proposals: createProposalsTable(dynamo),
          voteLists: createVoteListsTable(dynamo),
          signer: createKmsSigner({ client: new KMSClient({}), keyId }),
          authorizeAdmin,
          logger,
        }),
      ),
  }),
);
