import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { LRUCache } from "lru-cache";
import {
  buildMerkleInclusionProof,
  decodePublishedVoteBinary,
  leafHash,
  MERKLE_HASH_BYTES,
  merkleLevels,
  splitVoteListBinary,
  UUID_PATTERN,
} from "../../clients/sdk/voting/index.js";
import { nodeSha256 } from "../../clients/sdk/voting/node.js";
import type { BlobStore } from "../../enclave/storage/index.js";
import {
  type PublishedVoteList,
  PublishedVoteListSchema,
} from "../../gen/vettid/voting/v1/vote_list_pb.js";
import type { VoteListService } from "../../gen/vettid/voting/v1/vote_list_service_pb.js";
import type { ProposalsTable } from "./proposals-table.js";
import type { VoteListsTable } from "./vote-lists-table.js";

/** Page size of GetPublishedVoteList when none is given (vote_list_service.proto). */
export const DEFAULT_VOTE_LIST_PAGE_SIZE = 1000;
/** Largest page of GetPublishedVoteList (vote_list_service.proto). */
export const MAX_VOTE_LIST_PAGE_SIZE = 5000;
/**
 * Memory for loaded lists (file, vote hashes and Merkle tree, about 560 bytes a vote): 1 GiB,
 * which holds a million-vote list; smaller lists share it.
 */
export const DEFAULT_VOTE_LIST_CACHE_BYTES = 1024 * 1024 * 1024;

/** What VoteListService needs. */
export interface VoteListServiceDeps {
  readonly proposals: ProposalsTable;
  readonly voteLists: VoteListsTable;
  /** Where the publisher wrote the list files. */
  readonly blobs: BlobStore;
  /** Default {@link DEFAULT_VOTE_LIST_CACHE_BYTES}. */
  readonly cacheBytes?: number;
}

interface LoadedList {
  readonly bytes: Uint8Array;
  readonly header: PublishedVoteList;
  readonly spans: Float64Array;
  /** The entries' vote hashes, 32 bytes each, in list order (sorted). */
  readonly voteHashes: Uint8Array;
  readonly levels: Uint8Array[];
}

/**
 * VoteListService (HTTP, Connect protocol; public): pages of a published list, and Merkle
 * inclusion proofs. Lists are immutable once published, so each is loaded from its file once
 * (entries split, not decoded; the tree computed) and kept in an LRU bounded by bytes.
 */
export function createVoteListService(
  deps: VoteListServiceDeps,
): ServiceImpl<typeof VoteListService> {
  const cache = new LRUCache<string, LoadedList>({
    maxSize: deps.cacheBytes ?? DEFAULT_VOTE_LIST_CACHE_BYTES,
    sizeCalculation: (list) =>
      Math.max(
        1,
        list.bytes.length +
          list.voteHashes.length +
          list.levels.reduce((sum, level) => sum + level.length, 0),
      ),
  });

  const load = async (proposalId: string): Promise<LoadedList> => {
    if (!UUID_PATTERN.test(proposalId)) throw new ConnectError("no such proposal", Code.NotFound);
    const cached = cache.get(proposalId);
    if (cached !== undefined) return cached;
    const row = await deps.voteLists.get(proposalId);
    if (row === undefined) {
      const proposal = await deps.proposals.get(proposalId);
      if (proposal === undefined) throw new ConnectError("no such proposal", Code.NotFound);
      throw new ConnectError(
        "the proposal's vote list is not published yet",
        Code.FailedPrecondition,
      );
    }
    const file = await deps.blobs.get(row.binaryKey);
    if (file.outcome !== "ok")
      throw new ConnectError("the vote list file is unavailable", Code.Unavailable);
    const split = splitVoteListBinary(file.data);
    if (!split.ok)
      throw new ConnectError(`the stored vote list is unreadable: ${split.problem}`, Code.Internal);
    const count = split.list.count;
    const voteHashes = new Uint8Array(count * MERKLE_HASH_BYTES);
    const leaves: Uint8Array[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const entry = decodePublishedVoteBinary(
        file.data.subarray(split.list.spans[2 * i], split.list.spans[2 * i + 1]),
      );
      voteHashes.set(entry.voteHash, i * MERKLE_HASH_BYTES);
      leaves[i] = leafHash(entry.voteHash, nodeSha256);
    }
    const loaded: LoadedList = {
      bytes: file.data,
      header: split.list.header,
      spans: split.list.spans,
      voteHashes,
      levels: merkleLevels(leaves, nodeSha256),
    };
    cache.set(proposalId, loaded);
    return loaded;
  };

  const entryAt = (list: LoadedList, index: number) =>
    decodePublishedVoteBinary(
      list.bytes.subarray(list.spans[2 * index], list.spans[2 * index + 1]),
    );

  return {
    async getPublishedVoteList(request) {
      const list = await load(request.proposalId);
      const pageSize =
        request.pageSize === 0
          ? DEFAULT_VOTE_LIST_PAGE_SIZE
          : Math.min(request.pageSize, MAX_VOTE_LIST_PAGE_SIZE);
      const count = list.spans.length / 2;
      const start = request.pageToken === "" ? 0 : decodePageToken(request.pageToken, list, count);
      const end = Math.min(count, start + pageSize);
      const entries = [];
      for (let i = start; i < end; i++) entries.push(entryAt(list, i));
      return {
        voteList: create(PublishedVoteListSchema, { ...list.header, entries }),
        firstEntryIndex: BigInt(start),
        nextPageToken: end < count ? encodePageToken(end, list) : "",
      };
    },
    async getMerkleProof(request) {
      if (request.voteHash.length !== MERKLE_HASH_BYTES) {
        throw new ConnectError("vote_hash must be 32 bytes", Code.InvalidArgument);
      }
      const list = await load(request.proposalId);
      const index = findIndex(list.voteHashes, request.voteHash);
      if (index < 0) throw new ConnectError("no published vote has this vote_hash", Code.NotFound);
      return {
        proof: buildMerkleInclusionProof(list.levels, index, request.voteHash, nodeSha256),
        signedHead: list.header.signedHead,
        entry: entryAt(list, index),
      };
    },
  };
}

function findIndex(hashes: Uint8Array, target: Uint8Array): number {
  let low = 0;
  let high = hashes.length / MERKLE_HASH_BYTES - 1;
  const wanted = Buffer.from(target);
  const all = Buffer.from(hashes.buffer, hashes.byteOffset, hashes.byteLength);
  while (low <= high) {
    const middle = (low + high) >> 1;
    const order = all.compare(
      wanted,
      0,
      MERKLE_HASH_BYTES,
      middle * MERKLE_HASH_BYTES,
      (middle + 1) * MERKLE_HASH_BYTES,
    );
    if (order === 0) return middle;
    if (order < 0) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

/** Page tokens name the next index and the list (by root), so a token never crosses lists. */
function encodePageToken(index: number, list: LoadedList): string {
  return Buffer.from(
    `v1:${index}:${Buffer.from(list.header.merkleRoot.subarray(0, 8)).toString("hex")}`,
  ).toString("base64url");
}

function decodePageToken(token: string, list: LoadedList, count: number): number {
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(token)
    ? Buffer.from(token, "base64url").toString("latin1")
    : "";
  const match = /^v1:(\d{1,10}):([0-9a-f]{16})$/.exec(text);
  const root = Buffer.from(list.header.merkleRoot.subarray(0, 8)).toString("hex");
  const index = match === null ? -1 : Number(match[1]);
  if (match === null || match[2] !== root || index <= 0 || index >= count) {
    throw new ConnectError("page_token is not one this list issued", Code.InvalidArgument);
  }
  return index;
}
