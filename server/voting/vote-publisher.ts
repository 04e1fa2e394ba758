import {
  decodeVoteListBinary,
  decodeVotePayload,
  encodeVoteListBinary,
  encodeVoteListJson,
  type TrustedKeys,
  verifySignedProposal,
  verifySignedVoteListHead,
} from "../../clients/sdk/voting/index.js";
import type { BlobStore } from "../../enclave/storage/index.js";
import { Choice } from "../../gen/vettid/voting/v1/proposal_pb.js";
import type { PublishedVoteList } from "../../gen/vettid/voting/v1/vote_list_pb.js";
import type { EnclaveVoteKeyCertificate } from "../../gen/vettid/voting/v1/vote_pb.js";
import { type Logger, silentLogger } from "../logging/index.js";
import type { OrgSigner } from "../signing/index.js";
import type { EnclaveKeyStore } from "./enclave-keys.js";
import type { ProposalsTable } from "./proposals-table.js";
import { type AcceptedVote, buildPublishedVoteList } from "./vote-list-builder.js";
import type { VoteListRecord, VoteListsTable } from "./vote-lists-table.js";
import type { VotesTable } from "./votes-table.js";
import { noMetrics, type VotingMetrics } from "./voting-metrics.js";
import { PUBLICATION_MARGIN_MS, SUBMISSION_GRACE_MS, votingEndMs } from "./voting-window.js";

/** Blob keys of a proposal's published list files. */
export function voteListBlobKeys(proposalId: string): {
  readonly binary: string;
  readonly json: string;
} {
  return { binary: `vote-lists/${proposalId}.binpb`, json: `vote-lists/${proposalId}.json` };
}

/** What the publisher needs. */
export interface VotePublisherDeps {
  readonly proposals: ProposalsTable;
  readonly votes: VotesTable;
  readonly voteLists: VoteListsTable;
  readonly enclaveKeys: EnclaveKeyStore;
  /** Where list files go (S3 in production, a directory locally): large enough for the lists. */
  readonly blobs: BlobStore;
  /** The org key (signs the head). */
  readonly signer: OrgSigner;
  /** The pinned org keys (the stored proposal is verified before it is published against). */
  readonly orgKeys: TrustedKeys;
  /** Members with an active subscription at `atMs` (for turnout quorum; a backend claim). */
  readonly eligibleMemberCount: (atMs: number) => Promise<number>;
  /** Public URL of a list file from its blob key (ProposalResults.vote_list_url). */
  readonly voteListUrl: (blobKey: string) => string;
  /** Default `Date.now`. */
  readonly now?: () => number;
  readonly logger?: Logger;
  readonly metrics?: VotingMetrics;
}

/** Closes expired proposals and publishes their vote lists. */
export interface VotePublisher {
  /**
   * Publishes every proposal whose voting ended at least the submission grace period (plus a
   * margin) ago and is not published yet; returns their ids. Run it on a schedule (every minute).
   */
  closeExpired(): Promise<string[]>;
  /** Publishes one proposal's list (idempotent: a published list is returned as it is). */
  publish(proposalId: string): Promise<VoteListRecord>;
}

/**
 * The publisher. Publication is idempotent and crash-safe: the list files are written
 * create-only (a list written by an earlier, interrupted attempt is kept, and its signed head
 * used), then the vote-lists row, then the proposal's results and status. Votes are published
 * exactly as stored; the publisher does not re-verify them (the intake did, and every auditor
 * does).
 */
export function createVotePublisher(deps: VotePublisherDeps): VotePublisher {
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? silentLogger;
  const metrics = deps.metrics ?? noMetrics;

  const publish = async (proposalId: string): Promise<VoteListRecord> => {
    const existing = await deps.voteLists.get(proposalId);
    const record = await deps.proposals.get(proposalId);
    if (record === undefined) throw new Error(`no proposal ${proposalId}`);
    if (existing !== undefined) {
      await finish(existing, await readList(existing.binaryKey));
      return existing;
    }
    const verified = verifySignedProposal(record.signed, deps.orgKeys);
    if (!verified.ok)
      throw new Error(`stored proposal ${proposalId} does not verify: ${verified.problem}`);

    const votes: AcceptedVote[] = [];
    const keyIds = new Set<string>();
    for await (const page of deps.votes.list(proposalId)) {
      for (const stored of page) {
        const decoded = decodeVotePayload(stored.signedVote.payload);
        if (!decoded.ok) {
          logger.error("stored_vote_malformed", { proposal_id: proposalId });
          continue;
        }
        keyIds.add(stored.signedVote.enclaveKeyId);
        votes.push({
          voteHash: stored.voteHash,
          choice: decoded.payload.choice,
          votingPublicKey: stored.votingPublicKey,
          signedVote: stored.signedVote,
        });
      }
    }
    const certificates: EnclaveVoteKeyCertificate[] = [];
    for (const keyId of keyIds) {
      const certificate = await deps.enclaveKeys.certificate(keyId);
      if (certificate === undefined)
        logger.error("enclave_key_certificate_missing", { key_id: keyId });
      else certificates.push(certificate);
    }
    const publishedAtMs = now();
    const built = await buildPublishedVoteList({
      signedProposal: record.signed,
      proposal: verified.payload,
      proposalHash: verified.proposalHash,
      votes,
      certificates,
      eligibleMemberCount: await deps.eligibleMemberCount(votingEndMs(record)),
      closedAtMs: votingEndMs(record),
      publishedAtMs,
      signer: deps.signer,
    });
    const keys = voteListBlobKeys(proposalId);
    let list = built;
    const written = await deps.blobs.put(keys.binary, encodeVoteListBinary(built), {
      mode: "create_only",
    });
    if (written.outcome !== "ok") list = await readList(keys.binary); // an interrupted attempt's list stands
    await deps.blobs.put(keys.json, encodeVoteListJson(list), { mode: "overwrite" });
    const head = verifySignedVoteListHead(list.signedHead, deps.orgKeys);
    if (!head.ok || list.signedHead === undefined)
      throw new Error(`published head does not verify: ${head.ok ? "missing" : head.problem}`);
    const row: VoteListRecord = {
      proposalId,
      signedHead: list.signedHead,
      merkleRoot: head.head.merkleRoot,
      treeSize: Number(head.head.treeSize),
      binaryKey: keys.binary,
      jsonKey: keys.json,
      voteListUrl: deps.voteListUrl(keys.binary),
      publishedAtMs: Number(head.head.publishedAtMs),
    };
    if (!(await deps.voteLists.create(row))) {
      const stored = await deps.voteLists.get(proposalId);
      if (stored !== undefined) {
        await finish(stored, list);
        return stored;
      }
    }
    await finish(row, list);
    metrics.count("vote_lists_published", 1);
    logger.info("vote_list_published", { proposal_id: proposalId, tree_size: row.treeSize });
    return row;
  };

  const finish = async (row: VoteListRecord, list: PublishedVoteList) => {
    const count = (choice: Choice) =>
      Number(list.counts.find((c) => c.choice === choice)?.count ?? 0n);
    await deps.proposals.markPublished(row.proposalId, {
      merkleRoot: row.merkleRoot,
      voteListUrl: row.voteListUrl,
      yes: count(Choice.YES),
      no: count(Choice.NO),
      abstain: count(Choice.ABSTAIN),
      publishedAtMs: row.publishedAtMs,
    });
  };

  const readList = async (key: string): Promise<PublishedVoteList> => {
    const stored = await deps.blobs.get(key);
    if (stored.outcome !== "ok") throw new Error(`list file ${key} is missing`);
    return decodeVoteListBinary(stored.data);
  };

  return {
    publish,
    async closeExpired() {
      const cutoff = now() - SUBMISSION_GRACE_MS - PUBLICATION_MARGIN_MS;
      const due = [
        ...(await deps.proposals.activeClosingBy(cutoff)),
        ...(await deps.proposals.closedEarly()).filter((record) => votingEndMs(record) <= cutoff),
      ];
      const published: string[] = [];
      for (const record of due) {
        try {
          await publish(record.proposalId);
          published.push(record.proposalId);
        } catch (error) {
          logger.error("vote_list_publication_failed", {
            proposal_id: record.proposalId,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
      return published;
    },
  };
}
