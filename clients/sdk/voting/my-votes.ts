import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  ListVotesResponseSchema,
  type VoteRecord,
} from "../../../gen/vettid/vault/v1/voting_pb.js";
import type { SecureStorage } from "../storage/secure-storage.js";
import { equalBytes } from "./bytes.js";

/** Storage key of the member's kept vote records (`ListVotesResponse.votes`, protobuf binary). */
export const MY_VOTES_KEY = "member.my-votes";

/**
 * "My Votes": the receipts of the member's votes, kept on the device so the member can find each
 * vote in the published list and check its Merkle proof even without the vault. Receipts hold no
 * secret and nothing that names the member, but together they show how the member voted: keep
 * them in the app's secure storage.
 */
export interface MyVotes {
  /** Every record kept, newest first (a re-vote lists both revisions). */
  list(): Promise<VoteRecord[]>;
  /** The member's current vote on a proposal: the highest revision kept, or undefined. */
  latest(proposalId: string): Promise<VoteRecord | undefined>;
  /** Keeps a record; one with the same vote_hash (a status update from ListVotes) is replaced. */
  save(record: VoteRecord): Promise<void>;
}

/** {@link MyVotes} over a {@link SecureStorage} (one atomic value). */
export function createMyVotes(storage: SecureStorage): MyVotes {
  const read = async (): Promise<VoteRecord[]> => {
    const bytes = await storage.get(MY_VOTES_KEY);
    return bytes === undefined ? [] : fromBinary(ListVotesResponseSchema, bytes).votes;
  };
  return {
    list: read,
    async latest(proposalId) {
      let latest: VoteRecord | undefined;
      for (const record of await read()) {
        if (record.proposalId === proposalId && record.revision > (latest?.revision ?? 0))
          latest = record;
      }
      return latest;
    },
    async save(record) {
      const hash = record.receipt?.voteHash;
      if (hash === undefined || hash.length !== 32)
        throw new TypeError("a vote record needs its receipt and vote_hash");
      const kept = (await read()).filter(
        (r) => !equalBytes(r.receipt?.voteHash ?? new Uint8Array(), hash),
      );
      kept.push(record);
      kept.sort((a, b) =>
        a.signedAtMs === b.signedAtMs
          ? b.revision - a.revision
          : Number(b.signedAtMs - a.signedAtMs),
      );
      await storage.set(
        MY_VOTES_KEY,
        toBinary(ListVotesResponseSchema, create(ListVotesResponseSchema, { votes: kept })),
      );
    },
  };
}
