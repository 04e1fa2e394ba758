import { sha256 } from "@noble/hashes/sha2.js";
import { MerkleTreeAlgorithm } from "../../../gen/vettid/voting/v1/merkle_pb.js";
import { Choice, type ProposalPayload } from "../../../gen/vettid/voting/v1/proposal_pb.js";
import type {
  PublishedVoteList,
  VoteListHead,
} from "../../../gen/vettid/voting/v1/vote_list_pb.js";
import { compareBytes, equalBytes, shortHex, toBase64 } from "./bytes.js";
import { type Ed25519Verify, verifyEd25519Strict } from "./ed25519-strict.js";
import type { EnclaveKeyPolicy } from "./enclave-key-policy.js";
import { createMerkleRootBuilder, leafHash, MERKLE_HASH_BYTES } from "./merkle.js";
import { quorumMet, verifySignedProposal } from "./proposal.js";
import {
  type CountersignatureVerify,
  checkPublishedVote,
  type SignedVoteCheckOptions,
  type VoteProposal,
} from "./signed-vote.js";
import type { TrustedKeys } from "./trusted-keys.js";
import type { Sha256 } from "./vote.js";
import { verifySignedVoteListHead } from "./vote-list-head.js";

/**
 * Most problems an audit keeps (it still counts them all): the first ones name the trouble; a
 * list with millions of bad entries should not need gigabytes to say so.
 */
export const DEFAULT_MAX_AUDIT_PROBLEMS = 100;

/** What an audit of a published vote list needs. */
export interface VoteListAuditOptions {
  /** The pinned org keys (proposal and head signatures). */
  readonly orgKeys: TrustedKeys;
  /**
   * Which enclave countersigning keys are accepted: `attestedEnclaveKeys(trust)` (the attestation
   * verified against PCR sets of VettID releases; the dev root in development), or
   * `enclaveKeyBindingOnly()` where no attestation verifier runs (browsers).
   */
  readonly enclaveKeys: EnclaveKeyPolicy;
  /** Strict Ed25519 for voting signatures. Default {@link verifyEd25519Strict} (portable). */
  readonly verifyEd25519?: Ed25519Verify;
  /** Builds a verifier bound to one enclave key. Default: {@link verifyEd25519Strict} with the key. */
  readonly createKeyVerifier?: (publicKey: Uint8Array) => CountersignatureVerify | undefined;
  /** Default noble's SHA-256. */
  readonly hash?: Sha256;
  /** Default {@link DEFAULT_MAX_AUDIT_PROBLEMS}. */
  readonly maxProblems?: number;
}

/** The result of auditing a published vote list. */
export interface VoteListAuditReport {
  /** True when every check passed. */
  readonly ok: boolean;
  /** The first problems found, each naming what is wrong (and the entry, for entry problems). */
  readonly problems: readonly string[];
  /** How many problems were found in all. */
  readonly problemCount: number;
  readonly proposalId: string;
  /** The verified proposal content, when its signature verified. */
  readonly proposal: ProposalPayload | undefined;
  /** The verified head, when its signature verified. */
  readonly head: VoteListHead | undefined;
  /** Entries seen. */
  readonly entries: number;
  /** Entries whose signatures and fields all checked out. */
  readonly validEntries: number;
  /** The recount of valid entries, in the proposal's choice order. */
  readonly counts: readonly { readonly choice: Choice; readonly count: bigint }[];
  /** The Merkle root recomputed over the listed vote hashes. */
  readonly merkleRoot: Uint8Array;
  /** Quorum re-evaluated from the recount (and the head's eligible member count). */
  readonly quorumMet: boolean | undefined;
  /** Whether the enclave keys' attestation documents were verified (see {@link EnclaveKeyPolicy}). */
  readonly enclaveKeysAttested: boolean;
}

/** The data an entry check needs, plain and transferable (to worker threads). */
export interface EntryCheckData {
  readonly proposal: VoteProposal;
  /** Enclave keys whose certificates verified. */
  readonly enclaveKeys: readonly { readonly keyId: string; readonly publicKey: Uint8Array }[];
}

/**
 * An audit in three steps, so that entries can be checked anywhere (worker threads) while the
 * order-dependent checks stay in one place: the header is checked when it is created;
 * {@link VoteListAuditor.addEntry} takes each entry's outcome in list order; `finish` compares
 * the recount and the recomputed root with the signed head.
 */
export interface VoteListAuditor {
  /** What entry checks need; undefined when the header is too broken to check entries. */
  readonly entryData: EntryCheckData | undefined;
  /** Records a problem (entry problems name their index). */
  problem(message: string): void;
  /**
   * The outcome of entry `index` (calls in index order): its listed vote_hash (the Merkle leaf
   * data) and, when it checked out, its choice and voting key; `problem` when it did not.
   */
  addEntry(
    index: number,
    listedVoteHash: Uint8Array,
    valid:
      | { readonly choice: Choice; readonly votingPublicKey: Uint8Array }
      | { readonly problem: string },
    /** SHA-256(0x00 || listedVoteHash) when the caller computed it already (worker threads). */
    listedLeafHash?: Uint8Array,
  ): void;
  finish(): VoteListAuditReport;
}

/**
 * Starts an audit of `list` (its entries are ignored here: pass them to `addEntry`), checking
 * steps 1 and the list/head agreement of vote_list.proto: the proposal and head signatures, the
 * head against the proposal, the enclave certificates, and the list's copies of the head's fields.
 */
export function createVoteListAuditor(
  list: PublishedVoteList,
  options: VoteListAuditOptions,
): VoteListAuditor {
  const hash = options.hash ?? sha256;
  const maxProblems = options.maxProblems ?? DEFAULT_MAX_AUDIT_PROBLEMS;
  const problems: string[] = [];
  let problemCount = 0;
  const problem = (message: string) => {
    problemCount++;
    if (problems.length < maxProblems) problems.push(message);
  };

  const proposal = verifySignedProposal(list.signedProposal, options.orgKeys);
  if (!proposal.ok) problem(proposal.problem);
  else if (proposal.payload.proposalId !== list.proposalId) {
    problem("proposal_id of the list is not the signed proposal's");
  }
  const head = verifySignedVoteListHead(list.signedHead, options.orgKeys);
  if (!head.ok) problem(head.problem);
  const headValue = head.ok ? head.head : undefined;
  const proposalValue = proposal.ok ? proposal.payload : undefined;

  if (headValue !== undefined) {
    if (headValue.proposalId !== list.proposalId)
      problem("the signed head is for another proposal");
    if (proposal.ok && !equalBytes(headValue.proposalHash, proposal.proposalHash)) {
      problem("the signed head's proposal_hash is not SHA-256 of the signed proposal");
    }
    if (list.merkleAlgorithm !== headValue.merkleAlgorithm)
      problem("merkle_algorithm differs from the signed head's");
    if (!equalBytes(list.merkleRoot, headValue.merkleRoot))
      problem("merkle_root differs from the signed head's");
    if (list.treeSize !== headValue.treeSize) problem("tree_size differs from the signed head's");
    if (list.totalVotes !== headValue.totalVotes)
      problem("total_votes differs from the signed head's");
    if (list.publishedAtMs !== headValue.publishedAtMs)
      problem("published_at_ms differs from the signed head's");
    if (!sameCounts(list.counts, headValue.counts)) problem("counts differ from the signed head's");
    if (proposalValue !== undefined) {
      const order = headValue.counts.map((count) => count.choice);
      if (
        order.length !== proposalValue.choices.length ||
        order.some((c, i) => c !== proposalValue.choices[i])
      ) {
        problem("the signed head's counts are not one per choice of the proposal, in its order");
      }
      if (headValue.closedAtMs > proposalValue.closesAtMs) {
        problem("the signed head's closed_at_ms is after the proposal's closes_at_ms");
      }
    }
  }
  if (list.merkleAlgorithm !== MerkleTreeAlgorithm.RFC6962_SHA256)
    problem("merkle_algorithm is not RFC6962_SHA256");

  const enclaveKeys: { keyId: string; publicKey: Uint8Array }[] = [];
  const seenKeys = new Set<string>();
  for (const certificate of list.countersigningKeys) {
    if (seenKeys.has(certificate.keyId)) {
      problem(`enclave key ${certificate.keyId.slice(0, 16)}… is listed twice`);
      continue;
    }
    seenKeys.add(certificate.keyId);
    const verified = options.enclaveKeys.check(certificate);
    if (!verified.ok)
      problem(`enclave key ${certificate.keyId.slice(0, 16)}…: ${verified.problem}`);
    else enclaveKeys.push({ keyId: verified.keyId, publicKey: verified.publicKey });
  }

  const entryData: EntryCheckData | undefined = proposal.ok
    ? {
        proposal: {
          proposalId: proposal.payload.proposalId,
          proposalHash: proposal.proposalHash,
          choices: proposal.payload.choices,
        },
        enclaveKeys,
      }
    : undefined;

  const merkle = createMerkleRootBuilder(hash);
  const recount = new Map<Choice, bigint>((proposalValue?.choices ?? []).map((c) => [c, 0n]));
  const votingKeys = new Set<string>();
  let previous: Uint8Array | undefined;
  let entries = 0;
  let validEntries = 0;

  return {
    entryData,
    problem,
    addEntry(index, listedVoteHash, outcome, listedLeafHash) {
      entries++;
      const name = () =>
        `entry ${index} (vote_hash ${listedVoteHash.length === MERKLE_HASH_BYTES ? shortHex(listedVoteHash) : "malformed"})`;
      if (listedVoteHash.length !== MERKLE_HASH_BYTES) {
        problem(`${name()}: vote_hash is not 32 bytes`);
      } else {
        if (previous !== undefined && compareBytes(previous, listedVoteHash) >= 0) {
          problem(`${name()}: entries are not strictly ascending by vote_hash`);
        }
        previous = listedVoteHash;
      }
      merkle.append(listedLeafHash ?? leafHash(listedVoteHash, hash));
      if ("problem" in outcome) {
        problem(`${name()}: ${outcome.problem}`);
        return;
      }
      const key = toBase64(outcome.votingPublicKey);
      if (votingKeys.has(key)) {
        problem(`${name()}: voting_public_key appears twice in the list`);
        return;
      }
      votingKeys.add(key);
      recount.set(outcome.choice, (recount.get(outcome.choice) ?? 0n) + 1n);
      validEntries++;
    },
    finish() {
      const root = merkle.root();
      const counts = [...recount.entries()].map(([choice, count]) => ({ choice, count }));
      let met: boolean | undefined;
      if (headValue !== undefined) {
        if (BigInt(entries) !== headValue.treeSize) {
          problem(`the list has ${entries} entries; the signed head says ${headValue.treeSize}`);
        }
        if (!equalBytes(root, headValue.merkleRoot)) {
          problem("the Merkle root recomputed over the entries is not the signed merkle_root");
        }
        for (const { choice, count } of counts) {
          const signed = headValue.counts.find((c) => c.choice === choice)?.count ?? 0n;
          if (signed !== count) {
            problem(`recount of ${Choice[choice]} is ${count}; the signed head says ${signed}`);
          }
        }
        if (proposalValue !== undefined) {
          const total = counts.reduce((sum, c) => sum + c.count, 0n);
          met = quorumMet(
            proposalValue.quorumType,
            proposalValue.quorumValue,
            total,
            headValue.eligibleMemberCount,
          );
          if (met !== headValue.quorumMet)
            problem(`quorum re-evaluated is ${met}; the signed head says ${headValue.quorumMet}`);
        }
      }
      return {
        ok: problemCount === 0,
        problems,
        problemCount,
        proposalId: list.proposalId,
        proposal: proposalValue,
        head: headValue,
        entries,
        validEntries,
        counts,
        merkleRoot: root,
        quorumMet: met,
        enclaveKeysAttested: options.enclaveKeys.attested,
      };
    },
  };
}

/** Options of {@link auditVoteList}: the audit's, plus progress for long lists. */
export interface AuditVoteListOptions extends VoteListAuditOptions {
  /** Called every `progressEvery` entries with the number checked. */
  readonly onProgress?: (checked: number, total: number) => void;
  /** Default 250; each report also yields to the event loop (a browser stays responsive). */
  readonly progressEvery?: number;
}

/**
 * Audits a whole published vote list in this thread, every step of vote_list.proto: signatures of
 * the proposal, the head and every vote (voting signature and enclave countersignature, with the
 * enclave certificates' attestations), order and uniqueness, the Merkle root and the recount.
 * For lists that fit in memory (the `vettid verify-votes` command audits large files in
 * parallel). Never throws for a bad list: the report names every problem (up to `maxProblems`).
 */
export async function auditVoteList(
  list: PublishedVoteList,
  options: AuditVoteListOptions,
): Promise<VoteListAuditReport> {
  const auditor = createVoteListAuditor(list, options);
  const data = auditor.entryData;
  const checkOptions = data === undefined ? undefined : entryCheckOptions(data, options);
  const every = options.progressEvery ?? 250;
  for (const [index, entry] of list.entries.entries()) {
    if (data === undefined || checkOptions === undefined) {
      auditor.addEntry(index, entry.voteHash, {
        problem: "not checked: the proposal did not verify",
      });
    } else {
      const checked = checkPublishedVote(entry, data.proposal, checkOptions);
      auditor.addEntry(index, entry.voteHash, checked.ok ? checked : { problem: checked.problem });
    }
    if ((index + 1) % every === 0) {
      options.onProgress?.(index + 1, list.entries.length);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
  options.onProgress?.(list.entries.length, list.entries.length);
  return auditor.finish();
}

/** The options of `checkPublishedVote` for verified entry data (verifiers built once per key). */
export function entryCheckOptions(
  data: EntryCheckData,
  options: Pick<VoteListAuditOptions, "verifyEd25519" | "createKeyVerifier" | "hash">,
): SignedVoteCheckOptions {
  const verify = options.verifyEd25519 ?? verifyEd25519Strict;
  const create =
    options.createKeyVerifier ??
    ((publicKey: Uint8Array) => (signature: Uint8Array, message: Uint8Array) =>
      verify(signature, message, publicKey));
  const verifiers = new Map<string, CountersignatureVerify>();
  for (const key of data.enclaveKeys) {
    const verifier = create(key.publicKey);
    if (verifier !== undefined) verifiers.set(key.keyId, verifier);
  }
  return {
    countersignatureVerifier: (keyId) => verifiers.get(keyId),
    verifyEd25519: verify,
    ...(options.hash === undefined ? {} : { hash: options.hash }),
  };
}

function sameCounts(
  a: readonly { choice: Choice; count: bigint }[],
  b: readonly { choice: Choice; count: bigint }[],
): boolean {
  return (
    a.length === b.length && a.every((c, i) => c.choice === b[i]?.choice && c.count === b[i]?.count)
  );
}
