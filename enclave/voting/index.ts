export type { CastVoteInput, CastVoteResult, VotingTrust } from "./cast-vote.js";
export { castVote, MAX_REVISION, VOTE_NONCE_BYTES } from "./cast-vote.js";
export type { EnclaveVoteCountersigner } from "./countersigner.js";
export { createEnclaveVoteCountersigner } from "./countersigner.js";
export { DEFAULT_SUBMIT_TIMEOUT_MS, natsVoteSubmitter } from "./nats-submitter.js";
export type { CachedSubscription } from "./subscription-cache.js";
export {
  acceptSubscriptionStatement,
  nextSubscriptionRefreshAt,
  SUBSCRIPTION_REFRESH_INTERVAL_MS,
  SUBSCRIPTION_REFRESH_JITTER_MS,
} from "./subscription-cache.js";
export type {
  BatchScheduler,
  QueuedVote,
  VoteBatcher,
  VoteBatcherOptions,
  VoteOutcome,
} from "./vote-batcher.js";
export {
  createVoteBatcher,
  DEFAULT_BATCH_INTERVAL_MS,
  DEFAULT_CLOSE_FLUSH_DELAY_MS,
  MAX_BATCH_BYTES,
  MAX_BATCH_VOTES,
} from "./vote-batcher.js";
export type { VotingKeyPair } from "./voting-key.js";
export { deriveVotingKey, ED25519_SEED_BYTES } from "./voting-key.js";
export { readVotingKeysFile } from "./voting-keys-file.js";
