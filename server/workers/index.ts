export type { BackendWorkers, BackendWorkersOptions } from "./backend-workers.js";
export { startBackendWorkers } from "./backend-workers.js";
export type {
  VotingWorkerConfig,
  VotingWorkers,
  VotingWorkersClients,
  VotingWorkersOptions,
} from "./voting-workers.js";
export {
  ENV_BUCKET_VOTE_LISTS,
  ENV_BUCKET_VOTE_LISTS_PREFIX,
  ENV_KMS_PROPOSAL_KEY_ARN,
  ENV_KMS_SUBSCRIPTION_KEY_ARN,
  ENV_VOTE_LISTS_PUBLIC_URL,
  PUBLISH_INTERVAL_MS,
  readVotingWorkerConfig,
  startVotingWorkers,
  startVotingWorkersFromConfig,
  VOTE_LIST_MAX_OBJECT_BYTES,
  VOTING_VARIABLES,
} from "./voting-workers.js";
