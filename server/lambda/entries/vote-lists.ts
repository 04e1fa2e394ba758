/**
 * Lambda entry of `vettid.voting.v1.VoteListService` (API Gateway HTTP API, payload 2.0): public,
 * unauthenticated reads of published vote lists and Merkle inclusion proofs. Configuration,
 * checked at cold start: `VETTID_ENVIRONMENT`, `VETTID_BUCKET_VOTE_LISTS` (and its `_PREFIX`),
 * where the publisher wrote the lists.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { VoteListService } from "../../../gen/vettid/voting/v1/vote_list_service_pb.js";
import { readCommonConfig } from "../../config/index.js";
import { createHttpApi } from "../../http/index.js";
import { createConsoleLogger } from "../../logging/index.js";
import { createS3BlobStore } from "../../storage/index.js";
import {
  createProposalsTable,
  createVoteListService,
  createVoteListsTable,
} from "../../voting/index.js";
import { createApiGatewayHandler } from "../api-gateway-adapter.js";
import { lambdaServiceContext } from "../lambda-context.js";

const env = process.env;
const common = readCommonConfig(env);
const logger = createConsoleLogger("vote-lists");
const bucket = env.VETTID_BUCKET_VOTE_LISTS;
if (bucket === undefined || bucket === "") {
  throw new Error("VETTID_BUCKET_VOTE_LISTS is required (the published vote lists bucket)");
}
const prefix = env.VETTID_BUCKET_VOTE_LISTS_PREFIX ?? "";
const { dynamo } = lambdaServiceContext(common, env, logger);

/** The Lambda handler. */
export const handler = createApiGatewayHandler(
  createHttpApi({
    logger,
    routes: (router) =>
      router.service(
        VoteListService,
        createVoteListService({
          proposals: createProposalsTable(dynamo),
          voteLists: createVoteListsTable(dynamo),
          blobs: createS3BlobStore({
            client: new S3Client({}),
            bucket,
            ...(prefix === "" ? {} : { keyPrefix: prefix }),
          }),
        }),
      ),
  }),
);
