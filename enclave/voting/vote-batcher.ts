import { create } from "@bufbuild/protobuf";
import { randomBytes } from "@noble/hashes/utils.js";
import { compareBytes, equalBytes, toHex } from "../../clients/sdk/voting/index.js";
import {
  type SubmitVotesRequest,
  SubmitVotesRequestSchema,
  type SubmitVotesResponse,
  type VoteSubmissionResult,
} from "../../gen/vettid/voting/v1/vote_intake_service_pb.js";
import type { EnclaveVoteKeyCertificate, SignedVote } from "../../gen/vettid/voting/v1/vote_pb.js";

/**
 * Interval between submissions: ten minutes, the longest vote_intake_service.proto allows. The
 * longer it is, the more vaults' votes share a batch (a larger crowd to hide in); ten minutes
 * still lands every vote well within the backend's 15-minute grace after a proposal closes,
 * with the extra flush right after closing.
 */
export const DEFAULT_BATCH_INTERVAL_MS = 10 * 60_000;

/** Most votes per SubmitVotes call (vote_intake_service.proto). */
export const MAX_BATCH_VOTES = 1000;

/**
 * Largest batch request, in bytes: under the 1 MiB the backend accepts (and NATS's default
 * max_payload), with room for the RPC framing.
 */
export const MAX_BATCH_BYTES = 1024 * 1024 - 16 * 1024;

/**
 * Delay of the flush after a proposal's closes_at_ms: thirty seconds, so that votes signed in the
 * last moments (by a vault whose clock runs a little behind) are in it too, well inside the
 * backend's 15-minute grace.
 */
export const DEFAULT_CLOSE_FLUSH_DELAY_MS = 30_000;

/** A timer API (the global one by default; tests pass a manual one). */
export interface BatchScheduler {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

/** What happened to a queued vote, for the vault-manager's VoteRecord bookkeeping. */
export type VoteOutcome =
  | { readonly kind: "result"; readonly result: VoteSubmissionResult }
  /** A newer revision for the same voting key was queued before this one was sent: never sent. */
  | { readonly kind: "superseded"; readonly byVoteHash: Uint8Array };

/** Options of {@link createVoteBatcher}. */
export interface VoteBatcherOptions {
  /** Sends one batch (VoteIntakeService.SubmitVotes over NATS; {@link natsVoteSubmitter}). */
  readonly submit: (request: SubmitVotesRequest) => Promise<SubmitVotesResponse>;
  /** Called with each queued vote's fate, keyed by its vote_hash. */
  readonly onOutcome: (voteHash: Uint8Array, outcome: VoteOutcome) => void;
  /** Called when a batch could not be sent (it is retried, same batch_id, at the next tick). */
  readonly onSubmitError?: (error: unknown) => void;
  /** Default {@link DEFAULT_BATCH_INTERVAL_MS}. */
  readonly intervalMs?: number;
  /** Default {@link DEFAULT_CLOSE_FLUSH_DELAY_MS}. */
  readonly closeFlushDelayMs?: number;
  /** Default: the global timers and `Date.now`. */
  readonly scheduler?: BatchScheduler;
  /** Randomness for batch ids. Default: the CSPRNG. */
  readonly random?: (length: number) => Uint8Array;
}

/** A vote handed to the batcher. */
export interface QueuedVote {
  readonly signedVote: SignedVote;
  readonly voteHash: Uint8Array;
  readonly proposalId: string;
  readonly votingPublicKey: Uint8Array;
  readonly revision: number;
  /** The proposal's closes_at_ms: a flush follows it. */
  readonly closesAtMs: number;
  /** Certificate of the key that countersigned it. */
  readonly certificate: EnclaveVoteKeyCertificate;
}

/**
 * The enclave's vote queue (one per enclave, shared by all its vaults): submission is decoupled
 * from the member's call. Votes wait in memory and leave at a fixed interval, whether or not
 * anyone voted, and right after a proposal closes, so the time of a submission says nothing about
 * when a member voted; within a batch votes are sorted by vote_hash (the schema's order), which,
 * hashes being random, is a uniformly random shuffle with respect to arrival order. A re-vote
 * still queued replaces the earlier revision (which is then never sent). A batch that fails is
 * kept, with its batch_id, and resent first at the next tick (the backend answers
 * ALREADY_ACCEPTED for what it stored the first time).
 *
 * The queue lives in enclave memory: the vault-manager keeps each vote's VoteRecord (QUEUED) and
 * re-queues QUEUED records after an enclave restart.
 */
export interface VoteBatcher {
  /** Queues a vote; a queued vote with the same proposal and voting key and a lower revision is superseded. */
  enqueue(vote: QueuedVote): void;
  /** Votes waiting (not counting a batch in flight). */
  readonly queued: number;
  /** Sends everything queued now, in as many batches as needed (also what each tick does). */
  flush(): Promise<void>;
  /** Starts the interval timer. */
  start(): void;
  /** Stops the timers (queued votes stay queued). */
  stop(): void;
}

/** Creates the enclave's vote batcher. */
export function createVoteBatcher(options: VoteBatcherOptions): VoteBatcher {
  const intervalMs = options.intervalMs ?? DEFAULT_BATCH_INTERVAL_MS;
  if (!(intervalMs > 0) || intervalMs > DEFAULT_BATCH_INTERVAL_MS) {
    throw new RangeError(`intervalMs must be above 0 and at most ${DEFAULT_BATCH_INTERVAL_MS}`);
  }
  const closeDelay = options.closeFlushDelayMs ?? DEFAULT_CLOSE_FLUSH_DELAY_MS;
  const scheduler: BatchScheduler = options.scheduler ?? {
    setTimeout: (callback, ms) => setTimeout(callback, ms),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    now: () => Date.now(),
  };
  const random = options.random ?? randomBytes;
  const queue = new Map<string, QueuedVote>(); // by proposal id + voting key
  const closeFlushes = new Map<number, unknown>();
  const unsent: SubmitVotesRequest[] = [];
  let timer: unknown;
  let running = false;
  let flushing: Promise<void> | undefined;

  const keyOf = (vote: QueuedVote) => `${vote.proposalId}/${toHex(vote.votingPublicKey)}`;

  const scheduleCloseFlush = (closesAtMs: number) => {
    if (!running || closeFlushes.has(closesAtMs)) return;
    const delay = Math.max(0, closesAtMs + closeDelay - scheduler.now());
    // A regular tick comes first: nothing to add (and timers cannot wait past 2^31 ms anyway; a
    // longer delay would fire at once, sending the vote right after it was cast).
    if (delay >= intervalMs) return;
    closeFlushes.set(
      closesAtMs,
      scheduler.setTimeout(() => {
        closeFlushes.delete(closesAtMs);
        void batcher.flush();
      }, delay),
    );
  };

  const tick = () => {
    timer = scheduler.setTimeout(tick, intervalMs);
    void batcher.flush();
  };

  const takeBatches = (): SubmitVotesRequest[] => {
    const votes = [...queue.values()].sort((a, b) => compareBytes(a.voteHash, b.voteHash));
    queue.clear();
    const batches: SubmitVotesRequest[] = [];
    let current: QueuedVote[] = [];
    let bytes = 0;
    const close = () => {
      if (current.length === 0) return;
      const certificates = new Map<string, EnclaveVoteKeyCertificate>();
      for (const vote of current) certificates.set(vote.certificate.keyId, vote.certificate);
      batches.push(
        create(SubmitVotesRequestSchema, {
          batchId: random(16),
          votes: current.map((vote) => vote.signedVote),
          countersigningKeys: [...certificates.values()],
        }),
      );
      current = [];
      bytes = 0;
    };
    for (const vote of votes) {
      const size = vote.signedVote.payload.length + 200;
      if (current.length === MAX_BATCH_VOTES || bytes + size > MAX_BATCH_BYTES - 64 * 1024) close();
      current.push(vote);
      bytes += size;
    }
    close();
    return batches;
  };

  const send = async (request: SubmitVotesRequest): Promise<boolean> => {
    let response: SubmitVotesResponse;
    try {
      response = await options.submit(request);
    } catch (error) {
      options.onSubmitError?.(error);
      return false;
    }
    for (const result of response.results)
      options.onOutcome(result.voteHash, { kind: "result", result });
    return true;
  };

  const batcher: VoteBatcher = {
    enqueue(vote) {
      const key = keyOf(vote);
      const existing = queue.get(key);
      if (existing !== undefined) {
        if (existing.revision >= vote.revision && !equalBytes(existing.voteHash, vote.voteHash)) {
          options.onOutcome(vote.voteHash, { kind: "superseded", byVoteHash: existing.voteHash });
          return;
        }
        if (!equalBytes(existing.voteHash, vote.voteHash)) {
          options.onOutcome(existing.voteHash, { kind: "superseded", byVoteHash: vote.voteHash });
        }
      }
      queue.set(key, vote);
      scheduleCloseFlush(vote.closesAtMs);
    },
    get queued() {
      return queue.size;
    },
    flush() {
      const run = async () => {
        // Batches that failed earlier go first, unchanged (same batch_id), then the new ones.
        const pending = [...unsent.splice(0), ...takeBatches()];
        for (const [index, request] of pending.entries()) {
          if (!(await send(request))) {
            unsent.push(...pending.slice(index));
            return;
          }
        }
      };
      const previous = flushing ?? Promise.resolve();
      const next = previous.then(run);
      flushing = next.finally(() => {
        if (flushing === next) flushing = undefined;
      });
      return next;
    },
    start() {
      if (running) return;
      running = true;
      timer = scheduler.setTimeout(tick, intervalMs);
      for (const vote of queue.values()) scheduleCloseFlush(vote.closesAtMs);
    },
    stop() {
      running = false;
      if (timer !== undefined) scheduler.clearTimeout(timer);
      timer = undefined;
      for (const handle of closeFlushes.values()) scheduler.clearTimeout(handle);
      closeFlushes.clear();
    },
  };
  return batcher;
}
