export type { AdminAuthorizer } from "./admin-authorizer.js";
export { createStaticTokenAdminAuthorizer } from "./admin-authorizer.js";
export { signProposal, signSubscriptionStatement, signVoteListHead } from "./backend-signing.js";
export type { EnclaveKeyLookup, EnclaveKeyStore, TrustedEnclaveKey } from "./enclave-keys.js";
export {
  createEnclaveKeyStore,
  DEFAULT_ENCLAVE_KEY_CACHE_SIZE,
  enclaveKeyBlobKey,
} from "./enclave-keys.js";
export type { ProposalServiceDeps } from "./proposal-service.js";
export {
  createProposalService,
  DEFAULT_PROPOSAL_PAGE_SIZE,
  MAX_CLOSE_REASON_LENGTH,
  MAX_PROPOSAL_PAGE_SIZE,
  proposalIdFor,
} from "./proposal-service.js";
export type {
  ProposalRecord,
  ProposalsTable,
  StoredProposalStatus,
  StoredResults,
} from "./proposals-table.js";
export { createProposalsTable } from "./proposals-table.js";
export type {
  SubscriptionServiceDeps,
  SubscriptionSource,
  SubscriptionState,
} from "./subscription-service.js";
export {
  createMembersSubscriptionSource,
  createSubscriptionStatementService,
} from "./subscription-service.js";
export type { VoteIntakeDeps } from "./vote-intake-service.js";
export {
  createVoteIntakeService,
  DEFAULT_INTAKE_CLOCK_SKEW_MS,
  DEFAULT_PROPOSAL_CACHE_MS,
  DEFAULT_STORE_CONCURRENCY,
  MAX_VOTES_PER_BATCH,
  VOTE_INTAKE_MAX_REQUEST_BYTES,
} from "./vote-intake-service.js";
export type { AcceptedVote, VoteListInput } from "./vote-list-builder.js";
export { buildPublishedVoteList } from "./vote-list-builder.js";
export type { VoteListServiceDeps } from "./vote-list-service.js";
export {
  createVoteListService,
  DEFAULT_VOTE_LIST_CACHE_BYTES,
  DEFAULT_VOTE_LIST_PAGE_SIZE,
  MAX_VOTE_LIST_PAGE_SIZE,
} from "./vote-list-service.js";
export type { VoteListRecord, VoteListsTable } from "./vote-lists-table.js";
export { createVoteListsTable } from "./vote-lists-table.js";
export type { VotePublisher, VotePublisherDeps } from "./vote-publisher.js";
export { createVotePublisher, voteListBlobKeys } from "./vote-publisher.js";
export type { PutVoteOutcome, StoredVote, VotesTable } from "./votes-table.js";
export { createVotesTable, votingKeyAttribute } from "./votes-table.js";
export type { VotingBackend, VotingBackendOptions } from "./voting-backend.js";
export { createVotingBackend, serveVotingNats } from "./voting-backend.js";
export type { RecordedMetric, VotingMetricName, VotingMetrics } from "./voting-metrics.js";
export { createRecordingMetrics, noMetrics } from "./voting-metrics.js";
export {
  PUBLICATION_MARGIN_MS,
  proposalStatus,
  SUBMISSION_GRACE_MS,
  votingEndMs,
} from "./voting-window.js";
