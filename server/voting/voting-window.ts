import { ProposalStatus } from "../../gen/vettid/voting/v1/proposal_service_pb.js";
import type { ProposalRecord } from "./proposals-table.js";

/**
 * How long after voting ends the intake still accepts votes: fifteen minutes
 * (vote_intake_service.proto), so the enclaves' last batch (sent right after closes_at_ms, or at
 * most one interval later) counts.
 */
export const SUBMISSION_GRACE_MS = 15 * 60_000;

/**
 * Extra wait before publishing, after the grace period: one minute, for an intake instance whose
 * clock runs behind the publisher's, so no vote is stored after the list was read.
 */
export const PUBLICATION_MARGIN_MS = 60_000;

/** When voting actually ended or ends: the admin's early close, else closes_at_ms. */
export function votingEndMs(record: ProposalRecord): number {
  return record.closedAtMs ?? record.closesAtMs;
}

/** The status ProposalService reports now (status is partly a matter of the clock). */
export function proposalStatus(record: ProposalRecord, nowMs: number): ProposalStatus {
  if (record.status === "published") return ProposalStatus.PUBLISHED;
  if (record.status === "closed") return ProposalStatus.CLOSED;
  if (nowMs < record.opensAtMs) return ProposalStatus.UPCOMING;
  if (nowMs < record.closesAtMs) return ProposalStatus.OPEN;
  return ProposalStatus.CLOSED;
}
