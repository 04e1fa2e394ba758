import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import { toHex } from "../../clients/sdk/voting/index.js";
import { SubscriptionStatementService } from "../../gen/vettid/voting/v1/subscription_pb.js";
import { createRpcClient } from "../../rpc/index.js";
import { committing } from "../vault-manager/services/committing.js";
import {
  type PendingVoteOutcome,
  type VaultVoting,
  writePendingOutcomes,
} from "../vault-manager/services/voting-service.js";
import { queuedVotes, writeCachedSubscription } from "../vault-manager/vote-records.js";
import {
  acceptSubscriptionStatement,
  type BatchScheduler,
  createVoteBatcher,
  type EnclaveVoteCountersigner,
  natsVoteSubmitter,
  nextSubscriptionRefreshAt,
  type QueuedVote,
  type VoteOutcome,
  type VotingTrust,
} from "../voting/index.js";
import type { VaultRegistry } from "./vault-registry.js";

/** After a failed statement fetch, the next try: an hour later (the held statement stays). */
export const SUBSCRIPTION_RETRY_MS = 3_600_000;

/** Options of {@link createEnclaveVoting}. */
export interface EnclaveVotingOptions {
  readonly trust: VotingTrust;
  readonly countersigner: EnclaveVoteCountersigner;
  readonly registry: Pick<VaultRegistry, "useIfOpen" | "openVaults">;
  /** Calls to the backend (SubmitVotes, GetSubscriptionStatement) over the relayed NATS. */
  readonly transport: Transport;
  readonly now: () => number;
  /** The batcher's interval (default: ten minutes). */
  readonly batchIntervalMs?: number;
  /** Delay of the flush after a proposal closes (default: thirty seconds). */
  readonly closeFlushDelayMs?: number;
  /** Timers of the batcher (tests pass a manual one). */
  readonly scheduler?: BatchScheduler;
  /** Problems, never with member data. */
  readonly onProblem: (problem: string) => void;
}

/** The enclave's side of voting, shared by all its vaults. */
export interface EnclaveVoting extends VaultVoting {
  /** A vault was unlocked: fetch its subscription statement; re-queue votes a restart dropped. */
  unlocked(ownerGuid: string): void;
  /** Fetches statements for unlocked vaults whose ~12-hour refresh is due (called periodically). */
  refreshDue(): void;
  /** Sends every queued vote now (drain, tests). */
  flush(): Promise<void>;
  /** Resolves once the background work started so far (fetches, record updates) has finished. */
  settled(): Promise<void>;
  /** Queued votes not yet sent. */
  readonly queued: number;
  start(): void;
  stop(): void;
}

/**
 * Joins the vaults to the enclave's vote batcher and keeps each member's subscription statement
 * fresh.
 *
 * - Votes enter the batcher only once their record is stored; the batcher sends them at its fixed
 *   interval, mixed with other vaults' votes. Their outcomes go back into the member's vault when
 *   it is unlocked (now, or at its next unlock: a locked vault cannot be written), and are kept in
 *   enclave memory until then. Which vault a vote belongs to is known only inside the enclave.
 * - The batcher's queue is enclave memory: after a restart, unlocking a vault re-queues its votes
 *   still QUEUED (the backend answers ALREADY_ACCEPTED for any it already stored).
 * - Statements are fetched on every unlock and about every 12 hours while unlocked, never because
 *   of a vote, so the backend learns nothing about voting from the fetches.
 */
export function createEnclaveVoting(options: EnclaveVotingOptions): EnclaveVoting {
  const { registry, now, onProblem } = options;
  const subscriptions = createRpcClient(SubscriptionStatementService, options.transport);
  /** vote_hash (hex) → member, for votes in the batcher or with an outcome not yet written. */
  const owners = new Map<string, string>();
  const pending = new Map<string, PendingVoteOutcome[]>();
  const nextRefresh = new Map<string, number>();
  const inFlight = new Set<Promise<unknown>>();

  const track = (work: Promise<unknown>) => {
    const tracked = work.catch((error: unknown) => {
      onProblem(`background voting work failed: ${problemOf(error)}`);
    });
    inFlight.add(tracked);
    void tracked.finally(() => inFlight.delete(tracked));
  };

  const takePendingOutcomes = (ownerGuid: string): PendingVoteOutcome[] => {
    const outcomes = pending.get(ownerGuid) ?? [];
    pending.delete(ownerGuid);
    for (const { voteHash } of outcomes) owners.delete(toHex(voteHash));
    return outcomes;
  };

  /** Writes this member's pending outcomes if the vault is unlocked; keeps them otherwise. */
  const writeOutcomes = (ownerGuid: string) =>
    registry.useIfOpen(ownerGuid, (vault) =>
      writePendingOutcomes(vault, { takePendingOutcomes }, ownerGuid, now()),
    );

  const batcher = createVoteBatcher({
    submit: natsVoteSubmitter(options.transport),
    onOutcome(voteHash, outcome: VoteOutcome) {
      const ownerGuid = owners.get(toHex(voteHash));
      if (ownerGuid === undefined) return;
      const list = pending.get(ownerGuid) ?? [];
      list.push({ voteHash, outcome });
      pending.set(ownerGuid, list);
      track(writeOutcomes(ownerGuid));
    },
    onSubmitError: (error) =>
      onProblem(`vote batch not sent, retried at the next tick: ${problemOf(error)}`),
    ...(options.batchIntervalMs === undefined ? {} : { intervalMs: options.batchIntervalMs }),
    ...(options.closeFlushDelayMs === undefined
      ? {}
      : { closeFlushDelayMs: options.closeFlushDelayMs }),
    ...(options.scheduler === undefined ? {} : { scheduler: options.scheduler }),
  });

  const queue = (ownerGuid: string, vote: QueuedVote) => {
    owners.set(toHex(vote.voteHash), ownerGuid);
    batcher.enqueue(vote);
  };

  const fetchStatement = async (ownerGuid: string) => {
    try {
      const { statement } = await subscriptions.getSubscriptionStatement({ ownerGuid });
      const cached = acceptSubscriptionStatement(
        statement,
        options.trust.subscriptionKeys,
        ownerGuid,
        now(),
      );
      await registry.useIfOpen(ownerGuid, (vault) =>
        committing(vault, async (db) => writeCachedSubscription(db, cached)),
      );
      nextRefresh.set(ownerGuid, nextSubscriptionRefreshAt(cached, now()));
    } catch (error) {
      const code = ConnectError.from(error).code;
      // No active subscription is an answer, not a problem: the held statement simply expires.
      if (code !== Code.FailedPrecondition && code !== Code.NotFound) {
        onProblem(`subscription statement not fetched: ${problemOf(error)}`);
      }
      nextRefresh.set(ownerGuid, now() + SUBSCRIPTION_RETRY_MS);
    }
  };

  /** Votes still QUEUED in the vault that this enclave's batcher does not hold (a restart). */
  const requeue = (ownerGuid: string) =>
    registry.useIfOpen(ownerGuid, async (vault) => {
      await writePendingOutcomes(vault, { takePendingOutcomes }, ownerGuid, now());
      for (const vote of queuedVotes(vault.db)) {
        if (!owners.has(toHex(vote.voteHash))) queue(ownerGuid, vote);
      }
    });

  return {
    trust: options.trust,
    countersigner: options.countersigner,
    queue,
    takePendingOutcomes,
    unlocked(ownerGuid) {
      nextRefresh.set(ownerGuid, now() + SUBSCRIPTION_RETRY_MS);
      track(requeue(ownerGuid));
      track(fetchStatement(ownerGuid));
    },
    refreshDue() {
      const open = new Set(registry.openVaults());
      for (const guid of nextRefresh.keys()) if (!open.has(guid)) nextRefresh.delete(guid);
      for (const guid of open) {
        if ((nextRefresh.get(guid) ?? 0) <= now()) {
          nextRefresh.set(guid, now() + SUBSCRIPTION_RETRY_MS);
          track(fetchStatement(guid));
        }
      }
    },
    flush: () => batcher.flush(),
    async settled() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    get queued() {
      return batcher.queued;
    },
    start: () => batcher.start(),
    stop: () => batcher.stop(),
  };
}

/** An error's code and message, for logs (these carry no member data). */
function problemOf(error: unknown): string {
  const connect = ConnectError.from(error);
  return `${Code[connect.code]}: ${connect.rawMessage.slice(0, 200)}`;
}
