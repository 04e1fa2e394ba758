import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { VoteSubmissionStatus } from "../../gen/vettid/vault/v1/voting_pb.js";
import { Choice } from "../../gen/vettid/voting/v1/proposal_pb.js";
import {
  VoteDisposition,
  VoteRejectReason,
  VoteSubmissionResultSchema,
} from "../../gen/vettid/voting/v1/vote_intake_service_pb.js";
import {
  EnclaveVoteKeyCertificateSchema,
  SignedVoteSchema,
  VotePayloadSchema,
  VoteReceiptSchema,
} from "../../gen/vettid/voting/v1/vote_pb.js";
import {
  createVaultDatabase,
  openVaultDatabase,
  readMeta,
  serializeVaultDatabase,
  VAULT_SCHEMA_VERSION,
  type VaultDatabase,
  writeMeta,
} from "./vault-database.js";
import {
  applyVoteOutcome,
  insertVoteRecord,
  listVoteRecords,
  nextVoteRevision,
  queuedVoteRecord,
  queuedVotes,
} from "./vote-records.js";

const PROPOSAL = "0b8f3c1e-2a4d-4e6f-8a9b-1c2d3e4f5a6b";
const KEY = new Uint8Array(32).fill(9);
const certificate = create(EnclaveVoteKeyCertificateSchema, {
  keyId: "ab".repeat(32),
  publicKey: new Uint8Array(32).fill(3),
  attestationDocument: new Uint8Array([1, 2, 3]),
});

/** Stores a vote of `revision` signed at `signedAtMs`; returns its vote hash. */
function store(db: VaultDatabase, revision: number, signedAtMs: number): Uint8Array {
  const voteHash = crypto.getRandomValues(new Uint8Array(32));
  const payload = toBinary(
    VotePayloadSchema,
    create(VotePayloadSchema, { proposalId: PROPOSAL, votingPublicKey: KEY, revision }),
  );
  insertVoteRecord(
    db,
    queuedVoteRecord({
      receipt: create(VoteReceiptSchema, {
        signedVote: create(SignedVoteSchema, { payload, enclaveKeyId: certificate.keyId }),
        voteHash,
      }),
      proposalId: PROPOSAL,
      choice: Choice.YES,
      revision,
      signedAtMs: BigInt(signedAtMs),
    }),
    10_000_000,
    certificate,
  );
  return voteHash;
}

const result = (fields: Parameters<typeof create<typeof VoteSubmissionResultSchema>>[1]) => ({
  kind: "result" as const,
  result: create(VoteSubmissionResultSchema, fields),
});

describe("vote records in the vault database", () => {
  it("a schema 1 image (before voting) opens migrated to the current schema; a newer one is refused", () => {
    const old = createVaultDatabase();
    old.exec("DROP TABLE votes; DROP TABLE vote_revisions; DROP TABLE countersigning_keys;");
    writeMeta(old, "schema_version", "1");
    writeMeta(old, "identity_public_key", new Uint8Array([7, 7]));
    const image = serializeVaultDatabase(old);
    const migrated = openVaultDatabase(image);
    expect(readMeta(migrated, "schema_version")).toBe(String(VAULT_SCHEMA_VERSION));
    expect(new Uint8Array(readMeta(migrated, "identity_public_key") as Uint8Array)).toEqual(
      new Uint8Array([7, 7]),
    );
    expect(nextVoteRevision(migrated, PROPOSAL)).toBe(1);
    store(migrated, 1, 1000);
    expect(listVoteRecords(migrated, "", 10, 0).records).toHaveLength(1);

    const future = createVaultDatabase();
    writeMeta(future, "schema_version", String(VAULT_SCHEMA_VERSION + 1));
    expect(() => openVaultDatabase(serializeVaultDatabase(future))).toThrow(/not supported/);
  });

  it("a stored vote becomes SUBMITTED and the earlier revision it replaced SUPERSEDED; a repeated report changes nothing", () => {
    const db = createVaultDatabase();
    const first = store(db, 1, 1000);
    expect(nextVoteRevision(db, PROPOSAL)).toBe(2);
    const second = store(db, 2, 2000);
    applyVoteOutcome(
      db,
      first,
      result({ voteHash: first, disposition: VoteDisposition.ACCEPTED }),
      1500,
    );
    const changed = applyVoteOutcome(
      db,
      second,
      result({
        voteHash: second,
        disposition: VoteDisposition.ACCEPTED,
        replacedVoteHash: first,
      }),
      2500,
    );
    expect(changed).toHaveLength(2);
    const [latest, earlier] = listVoteRecords(db, PROPOSAL, 10, 0).records;
    expect(latest?.status).toBe(VoteSubmissionStatus.SUBMITTED);
    expect(latest?.submittedAtMs).toBe(2500n);
    expect(earlier?.status).toBe(VoteSubmissionStatus.SUPERSEDED);
    expect(earlier?.supersededByVoteHash).toEqual(second);
    expect(
      applyVoteOutcome(
        db,
        second,
        result({ voteHash: second, disposition: VoteDisposition.ALREADY_ACCEPTED }),
        3000,
      ),
    ).toEqual([]);
  });

  it("a stale revision refused by the backend moves the counter past the backend's, so the next vote wins", () => {
    const db = createVaultDatabase();
    const hash = store(db, 1, 1000);
    applyVoteOutcome(
      db,
      hash,
      result({
        voteHash: hash,
        disposition: VoteDisposition.REJECTED,
        rejectReason: VoteRejectReason.STALE_REVISION,
        currentRevision: 6,
      }),
      1100,
    );
    const record = listVoteRecords(db, PROPOSAL, 10, 0).records[0];
    expect(record?.status).toBe(VoteSubmissionStatus.REJECTED);
    expect(record?.rejectReason).toBe(VoteRejectReason.STALE_REVISION);
    expect(nextVoteRevision(db, PROPOSAL)).toBe(7);
  });

  it("only QUEUED votes are handed back to the batcher after a restart, with their certificate and voting key", () => {
    const db = createVaultDatabase();
    const sent = store(db, 1, 1000);
    const waiting = store(db, 2, 2000);
    applyVoteOutcome(
      db,
      sent,
      result({ voteHash: sent, disposition: VoteDisposition.ACCEPTED }),
      1500,
    );
    const queued = queuedVotes(db);
    expect(queued.map((v) => v.voteHash)).toEqual([waiting]);
    expect(queued[0]?.votingPublicKey).toEqual(KEY);
    expect(queued[0]?.certificate.keyId).toBe(certificate.keyId);
    expect(queued[0]?.revision).toBe(2);
    // A vote superseded while queued is never resent.
    applyVoteOutcome(db, waiting, { kind: "superseded", byVoteHash: new Uint8Array(32) }, 2100);
    expect(queuedVotes(db)).toEqual([]);
  });

  it("pages newest first with a continuation", () => {
    const db = createVaultDatabase();
    for (let i = 1; i <= 5; i++) store(db, i, i * 1000);
    const first = listVoteRecords(db, "", 2, 0);
    expect(first.records.map((r) => r.revision)).toEqual([5, 4]);
    expect(first.more).toBe(true);
    const last = listVoteRecords(db, "", 2, 4);
    expect(last.records.map((r) => r.revision)).toEqual([1]);
    expect(last.more).toBe(false);
  });
});
