import type { Transport } from "@connectrpc/connect";
import type {
  SubmitVotesRequest,
  SubmitVotesResponse,
} from "../../gen/vettid/voting/v1/vote_intake_service_pb.js";
import { VoteIntakeService } from "../../gen/vettid/voting/v1/vote_intake_service_pb.js";
import { createRpcClient } from "../../rpc/index.js";

/**
 * Deadline of one SubmitVotes call: thirty seconds, room for the backend to verify and store a
 * full batch of 1000 votes (two signatures each, a conditional write each) on a busy instance.
 */
export const DEFAULT_SUBMIT_TIMEOUT_MS = 30_000;

/**
 * The batcher's `submit` over NATS: VoteIntakeService.SubmitVotes on `Backend.votes` through the
 * given transport (the enclave's relayed NATS connection).
 */
export function natsVoteSubmitter(
  transport: Transport,
  timeoutMs: number = DEFAULT_SUBMIT_TIMEOUT_MS,
): (request: SubmitVotesRequest) => Promise<SubmitVotesResponse> {
  const client = createRpcClient(VoteIntakeService, transport);
  return (request) => client.submitVotes(request, { timeoutMs });
}
