import { create } from "@bufbuild/protobuf";
import type { SignatureAlgorithm } from "../../gen/vettid/voting/v1/signature_pb.js";
import {
  type SignedVoteListHead,
  SignedVoteListHeadSchema,
} from "../../gen/vettid/voting/v1/vote_list_pb.js";
import { b, getB, getN, getS, type Item, n, s } from "../storage/attribute-values.js";
import { type DynamoContext, TableAccess } from "../storage/index.js";

/** A published list's row: the signed head, its root and counts, and where the files are. */
export interface VoteListRecord {
  readonly proposalId: string;
  readonly signedHead: SignedVoteListHead;
  readonly merkleRoot: Uint8Array;
  readonly treeSize: number;
  /** Blob key of the binary PublishedVoteList. */
  readonly binaryKey: string;
  /** Blob key of its JSON form. */
  readonly jsonKey: string;
  /** Public URL of the binary list (ProposalResults.vote_list_url). */
  readonly voteListUrl: string;
  readonly publishedAtMs: number;
}

/** The vote-lists table (`TABLES.voteLists`, key proposal_id): one row per published list. */
export interface VoteListsTable {
  get(proposalId: string): Promise<VoteListRecord | undefined>;
  /** Stores the row once; false when a list was recorded for this proposal already. */
  create(record: VoteListRecord): Promise<boolean>;
}

/** The vote-lists table of `context`. */
export function createVoteListsTable(context: DynamoContext): VoteListsTable {
  const table = new TableAccess(context, "voteLists");
  return {
    async get(proposalId) {
      const item = await table.get({ proposal_id: s(proposalId) });
      return item === undefined ? undefined : fromItem(item);
    },
    create(record) {
      return table.put(
        {
          proposal_id: s(record.proposalId),
          signed_head: b(record.signedHead.payload),
          org_signature: b(record.signedHead.orgSignature),
          signing_key_id: s(record.signedHead.signingKeyId),
          signature_algorithm: n(record.signedHead.algorithm),
          merkle_root: b(record.merkleRoot),
          tree_size: n(record.treeSize),
          binary_key: s(record.binaryKey),
          json_key: s(record.jsonKey),
          vote_list_url: s(record.voteListUrl),
          published_at_ms: n(record.publishedAtMs),
        },
        { expression: "attribute_not_exists(proposal_id)" },
      );
    },
  };
}

function fromItem(item: Item): VoteListRecord {
  return {
    proposalId: getS(item, "proposal_id"),
    signedHead: create(SignedVoteListHeadSchema, {
      payload: getB(item, "signed_head"),
      orgSignature: getB(item, "org_signature"),
      signingKeyId: getS(item, "signing_key_id"),
      algorithm: getN(item, "signature_algorithm") as SignatureAlgorithm,
    }),
    merkleRoot: getB(item, "merkle_root"),
    treeSize: getN(item, "tree_size"),
    binaryKey: getS(item, "binary_key"),
    jsonKey: getS(item, "json_key"),
    voteListUrl: getS(item, "vote_list_url"),
    publishedAtMs: getN(item, "published_at_ms"),
  };
}
