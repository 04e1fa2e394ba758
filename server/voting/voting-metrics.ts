/**
 * The voting services' metrics: counters with a few low-cardinality dimensions (a reject reason,
 * a method). Never a member id, a key, a vote hash, a choice or a proposal id: a metric that
 * could be joined with anything a member did is not kept.
 */
export interface VotingMetrics {
  count(name: VotingMetricName, value: number, dimensions?: Readonly<Record<string, string>>): void;
}

/** Every metric the voting services emit. */
export type VotingMetricName =
  | "vote_batches_received"
  | "votes_received"
  | "votes_accepted"
  | "votes_rejected"
  | "proposals_created"
  | "proposals_closed_early"
  | "vote_lists_published"
  | "subscription_statements_issued";

/** Metrics that go nowhere (the default). */
export const noMetrics: VotingMetrics = { count() {} };

/** One recorded metric. */
export interface RecordedMetric {
  readonly name: VotingMetricName;
  readonly value: number;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** Metrics kept in memory, for tests and the local stack. */
export function createRecordingMetrics(): VotingMetrics & {
  readonly recorded: readonly RecordedMetric[];
} {
  const recorded: RecordedMetric[] = [];
  return {
    recorded,
    count(name, value, dimensions = {}) {
      recorded.push({ name, value, dimensions: { ...dimensions } });
    },
  };
}
