import { PutItemCommand, QueryCommand, type QueryCommandOutput } from "@aws-sdk/client-dynamodb";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { type SignedVote, SignedVoteSchema } from "../../gen/vettid/voting/v1/vote_pb.js";
import { b, getB, getN, type Item, n, s } from "../storage/attribute-values.js";
import {
  type DynamoContext,
  isConditionalCheckFailed,
  storageUnavailable,
  TableAccess,
  tableName,
} from "../storage/index.js";

/** A stored vote: the signed vote exactly as submitted, and what replacement needs. Nothing else. */
export interface StoredVote {
  readonly proposalId: string;
  readonly votingPublicKey: Uint8Array;
  readonly voteHash: Uint8Array;
  readonly revision: number;
  readonly signedVote: SignedVote;
}

/** The outcome of {@link VotesTable.put}. */
export type PutVoteOutcome =
  | { readonly kind: "accepted"; readonly replacedVoteHash?: Uint8Array }
  | { readonly kind: "already_accepted" }
  | { readonly kind: "stale"; readonly currentRevision: number };

/**
 * The votes table (`TABLES.votes`): one item per (proposal_id, voting_public_key), holding only
 * `vote_hash`, `revision` and `signed_vote` (the SignedVote bytes). No member id, no identity key,
 * no arrival time, no batch id: nothing that could be joined with who cast the vote.
 */
export interface VotesTable {
  /**
   * Stores a vote if no vote is held for its voting key or the held one has a lower revision
   * (then it is replaced: its vote_hash is returned). The identical vote again is
   * `already_accepted`; anything else is `stale` with the held revision.
   */
  put(vote: StoredVote): Promise<PutVoteOutcome>;
  /** Every vote of a proposal, page by page (DynamoDB's order: by voting key). */
  list(proposalId: string): AsyncIterable<StoredVote[]>;
}

/** Sort key form of a voting key: base64url, unpadded (43 characters). */
export function votingKeyAttribute(votingPublicKey: Uint8Array): string {
  return Buffer.from(votingPublicKey).toString("base64url");
}

/** The votes table of `context`. */
export function createVotesTable(context: DynamoContext): VotesTable {
  const table = new TableAccess(context, "votes");
  const name = tableName(context.environment, "votes");
  return {
    async put(vote) {
      const key: Item = {
        proposal_id: s(vote.proposalId),
        voting_public_key: s(votingKeyAttribute(vote.votingPublicKey)),
      };
      try {
        const output = await context.client.send(
          new PutItemCommand({
            TableName: name,
            Item: {
              ...key,
              vote_hash: b(vote.voteHash),
              revision: n(vote.revision),
              signed_vote: b(toBinary(SignedVoteSchema, vote.signedVote)),
            },
            ConditionExpression: "attribute_not_exists(voting_public_key) OR revision < :revision",
            ExpressionAttributeValues: { ":revision": n(vote.revision) },
            ReturnValues: "ALL_OLD",
          }),
        );
        const replaced = output.Attributes?.vote_hash?.B;
        return replaced === undefined
          ? { kind: "accepted" }
          : { kind: "accepted", replacedVoteHash: new Uint8Array(replaced) };
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw storageUnavailable("write", name, error);
      }
      const held = await table.get(key);
      if (held === undefined) return { kind: "stale", currentRevision: 0 };
      if (Buffer.from(getB(held, "vote_hash")).equals(Buffer.from(vote.voteHash))) {
        return { kind: "already_accepted" };
      }
      return { kind: "stale", currentRevision: getN(held, "revision") };
    },
    async *list(proposalId) {
      let start: Item | undefined;
      do {
        let page: QueryCommandOutput;
        try {
          page = await context.client.send(
            new QueryCommand({
              TableName: name,
              ConsistentRead: true,
              KeyConditionExpression: "proposal_id = :id",
              ExpressionAttributeValues: { ":id": s(proposalId) },
              ...(start === undefined ? {} : { ExclusiveStartKey: start }),
            }),
          );
        } catch (error) {
          throw storageUnavailable("query", name, error);
        }
        yield (page.Items ?? []).map((item) => {
          const signedVote = fromBinary(SignedVoteSchema, getB(item, "signed_vote"));
          return {
            proposalId,
            votingPublicKey: new Uint8Array(
              Buffer.from(String(item.voting_public_key?.S), "base64url"),
            ),
            voteHash: getB(item, "vote_hash"),
            revision: getN(item, "revision"),
            signedVote,
          };
        });
        start = page.LastEvaluatedKey;
      } while (start !== undefined);
    },
  };
}
