/**
 * The member's votes in the vault database (schema version 2): one VoteRecord per signed vote,
 * the revision counter per proposal, the certificates of the enclave keys that countersigned
 * them, and the cached subscription statement. Only the vault-manager reads these; nothing here
 * leaves the enclave except through VotingService to the member's own app.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type VoteRecord,
  VoteRecordSchema,
  VoteSubmissionStatus,
} from "../../gen/vettid/vault/v1/voting_pb.js";
import {
  VoteDisposition,
  VoteRejectReason,
} from "../../gen/vettid/voting/v1/vote_intake_service_pb.js";
import {
  type EnclaveVoteKeyCertificate,
  EnclaveVoteKeyCertificateSchema,
  VotePayloadSchema,
} from "../../gen/vettid/voting/v1/vote_pb.js";
import type { CachedSubscription, QueuedVote, VoteOutcome } from "../voting/index.js";
import { readMeta, type VaultDatabase, writeMeta } from "./vault-database.js";

/** SQLite hands back Buffers: copy into plain Uint8Arrays before they reach messages. */
function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

interface VoteRow {
  vote_hash: Uint8Array;
  proposal_id: string;
  revision: number;
  status: number;
  signed_at_ms: number;
  closes_at_ms: number;
  enclave_key_id: string;
  record: Uint8Array;
}

/** The revision the member's next vote on `proposalId` gets: one past every earlier one. */
export function nextVoteRevision(db: VaultDatabase, proposalId: string): number {
  const row = db
    .prepare("SELECT last_revision FROM vote_revisions WHERE proposal_id = ?")
    .get(proposalId) as { last_revision: number } | undefined;
  return (row?.last_revision ?? 0) + 1;
}

/** Stores a newly signed vote (status QUEUED) and advances the proposal's revision counter. */
export function insertVoteRecord(
  db: VaultDatabase,
  record: VoteRecord,
  closesAtMs: number,
  certificate: EnclaveVoteKeyCertificate,
): void {
  const signedVote = record.receipt?.signedVote;
  if (record.receipt === undefined || signedVote === undefined)
    throw new Error("a vote record needs its receipt");
  db.prepare(
    `INSERT INTO votes (vote_hash, proposal_id, revision, status, signed_at_ms, closes_at_ms, enclave_key_id, record)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    record.receipt.voteHash,
    record.proposalId,
    record.revision,
    record.status,
    Number(record.signedAtMs),
    closesAtMs,
    signedVote.enclaveKeyId,
    toBinary(VoteRecordSchema, record),
  );
  raiseRevision(db, record.proposalId, record.revision);
  db.prepare(
    "INSERT INTO countersigning_keys (key_id, certificate) VALUES (?, ?) ON CONFLICT (key_id) DO NOTHING",
  ).run(certificate.keyId, toBinary(EnclaveVoteKeyCertificateSchema, certificate));
}

function raiseRevision(db: VaultDatabase, proposalId: string, revision: number): void {
  db.prepare(
    `INSERT INTO vote_revisions (proposal_id, last_revision) VALUES (?, ?)
     ON CONFLICT (proposal_id) DO UPDATE SET last_revision = max(last_revision, excluded.last_revision)`,
  ).run(proposalId, revision);
}

function readRecord(db: VaultDatabase, voteHash: Uint8Array): VoteRecord | undefined {
  const row = db.prepare("SELECT record FROM votes WHERE vote_hash = ?").get(voteHash) as
    | Pick<VoteRow, "record">
    | undefined;
  return row === undefined ? undefined : fromBinary(VoteRecordSchema, plain(row.record));
}

function writeRecord(db: VaultDatabase, record: VoteRecord): void {
  db.prepare("UPDATE votes SET status = ?, record = ? WHERE vote_hash = ?").run(
    record.status,
    toBinary(VoteRecordSchema, record),
    record.receipt?.voteHash ?? new Uint8Array(),
  );
}

/**
 * Applies what the batcher reported for one of this vault's votes. Returns the records that
 * changed (the vote itself, and the earlier revision a stored vote replaced), or none when the
 * vote is unknown or the outcome changes nothing (a repeated report).
 *
 * - Stored (ACCEPTED, ALREADY_ACCEPTED): SUBMITTED; the vote it replaced becomes SUPERSEDED.
 * - Refused: REJECTED with the reason; on STALE_REVISION the counter moves past the backend's
 *   revision, so the member's next vote wins again.
 * - Superseded while queued: SUPERSEDED, never sent.
 */
export function applyVoteOutcome(
  db: VaultDatabase,
  voteHash: Uint8Array,
  outcome: VoteOutcome,
  nowMs: number,
): VoteRecord[] {
  const record = readRecord(db, voteHash);
  if (record === undefined) return [];
  const changed: VoteRecord[] = [];
  if (outcome.kind === "superseded") {
    if (record.status !== VoteSubmissionStatus.QUEUED) return [];
    record.status = VoteSubmissionStatus.SUPERSEDED;
    record.supersededByVoteHash = outcome.byVoteHash;
    writeRecord(db, record);
    return [record];
  }
  const result = outcome.result;
  if (
    record.status !== VoteSubmissionStatus.QUEUED &&
    record.status !== VoteSubmissionStatus.SUBMITTED
  ) {
    return [];
  }
  const stored =
    result.disposition === VoteDisposition.ACCEPTED ||
    result.disposition === VoteDisposition.ALREADY_ACCEPTED;
  if (stored) {
    if (record.status === VoteSubmissionStatus.QUEUED) {
      record.status = VoteSubmissionStatus.SUBMITTED;
      record.submittedAtMs = BigInt(nowMs);
      writeRecord(db, record);
      changed.push(record);
    }
    if (result.replacedVoteHash.length > 0) {
      const replaced = readRecord(db, result.replacedVoteHash);
      if (replaced !== undefined && replaced.status !== VoteSubmissionStatus.SUPERSEDED) {
        replaced.status = VoteSubmissionStatus.SUPERSEDED;
        replaced.supersededByVoteHash = voteHash;
        writeRecord(db, replaced);
        changed.push(replaced);
      }
    }
    return changed;
  }
  record.status = VoteSubmissionStatus.REJECTED;
  record.submittedAtMs = BigInt(nowMs);
  record.rejectReason = result.rejectReason;
  writeRecord(db, record);
  if (result.rejectReason === VoteRejectReason.STALE_REVISION) {
    raiseRevision(db, record.proposalId, result.currentRevision);
  }
  return [record];
}

/** One page of the member's vote records, newest first. */
export function listVoteRecords(
  db: VaultDatabase,
  proposalId: string,
  pageSize: number,
  offset: number,
): { records: VoteRecord[]; more: boolean } {
  const rows = (
    proposalId === ""
      ? db
          .prepare(
            "SELECT record FROM votes ORDER BY signed_at_ms DESC, revision DESC LIMIT ? OFFSET ?",
          )
          .all(pageSize + 1, offset)
      : db
          .prepare(
            "SELECT record FROM votes WHERE proposal_id = ? ORDER BY signed_at_ms DESC, revision DESC LIMIT ? OFFSET ?",
          )
          .all(proposalId, pageSize + 1, offset)
  ) as Pick<VoteRow, "record">[];
  return {
    records: rows.slice(0, pageSize).map((row) => fromBinary(VoteRecordSchema, plain(row.record))),
    more: rows.length > pageSize,
  };
}

/**
 * The votes still QUEUED, as the batcher takes them: queued again when the vault is unlocked
 * after an enclave restart (the batcher's queue lives in enclave memory). A vote that did reach
 * the backend before the restart is answered ALREADY_ACCEPTED.
 */
export function queuedVotes(db: VaultDatabase): QueuedVote[] {
  const rows = db
    .prepare("SELECT * FROM votes WHERE status = ?")
    .all(VoteSubmissionStatus.QUEUED) as VoteRow[];
  const certificates = new Map<string, EnclaveVoteKeyCertificate>();
  const certificateOf = (keyId: string) => {
    let certificate = certificates.get(keyId);
    if (certificate === undefined) {
      const row = db
        .prepare("SELECT certificate FROM countersigning_keys WHERE key_id = ?")
        .get(keyId) as { certificate: Uint8Array } | undefined;
      if (row === undefined) return undefined;
      certificate = fromBinary(EnclaveVoteKeyCertificateSchema, plain(row.certificate));
      certificates.set(keyId, certificate);
    }
    return certificate;
  };
  const votes: QueuedVote[] = [];
  for (const row of rows) {
    const signedVote = fromBinary(VoteRecordSchema, plain(row.record)).receipt?.signedVote;
    const certificate = certificateOf(row.enclave_key_id);
    if (signedVote === undefined || certificate === undefined) continue;
    votes.push({
      signedVote,
      voteHash: plain(row.vote_hash),
      proposalId: row.proposal_id,
      // The vault made this payload itself: decoding it cannot fail.
      votingPublicKey: fromBinary(VotePayloadSchema, signedVote.payload).votingPublicKey,
      revision: row.revision,
      closesAtMs: row.closes_at_ms,
      certificate,
    });
  }
  return votes;
}

const SUBSCRIPTION_KEY = "subscription_statement";
const SUBSCRIPTION_VALID_UNTIL_KEY = "subscription_valid_until_ms";
const SUBSCRIPTION_FETCHED_AT_KEY = "subscription_fetched_at_ms";

/** The cached subscription statement, if the vault holds one. */
export function readCachedSubscription(db: VaultDatabase): CachedSubscription | undefined {
  const statement = readMeta(db, SUBSCRIPTION_KEY);
  if (!(statement instanceof Uint8Array)) return undefined;
  return {
    statement: plain(statement),
    validUntilMs: Number(readMeta(db, SUBSCRIPTION_VALID_UNTIL_KEY)),
    fetchedAtMs: Number(readMeta(db, SUBSCRIPTION_FETCHED_AT_KEY)),
  };
}

/** Replaces the cached subscription statement. */
export function writeCachedSubscription(db: VaultDatabase, cached: CachedSubscription): void {
  writeMeta(db, SUBSCRIPTION_KEY, cached.statement);
  writeMeta(db, SUBSCRIPTION_VALID_UNTIL_KEY, String(cached.validUntilMs));
  writeMeta(db, SUBSCRIPTION_FETCHED_AT_KEY, String(cached.fetchedAtMs));
}

/** A fresh VoteRecord for a vote just signed. */
export function queuedVoteRecord(fields: Omit<Partial<VoteRecord>, "$typeName">): VoteRecord {
  return create(VoteRecordSchema, { ...fields, status: VoteSubmissionStatus.QUEUED });
}
