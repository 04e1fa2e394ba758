import { PutItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { create } from "@bufbuild/protobuf";
import {
  type SignedProposal,
  SignedProposalSchema,
} from "../../gen/vettid/voting/v1/proposal_pb.js";
import type { SignatureAlgorithm } from "../../gen/vettid/voting/v1/signature_pb.js";
import { b, getB, getN, getS, type Item, n, optN, optS, s } from "../storage/attribute-values.js";
import {
  type DynamoContext,
  isConditionalCheckFailed,
  storageUnavailable,
  TableAccess,
  tableName,
} from "../storage/index.js";

/**
 * The stored state of a proposal: `active` (upcoming or open, by the clock), `closed` (an admin
 * ended voting early; or the publisher is tallying), `published`.
 */
export type StoredProposalStatus = "active" | "closed" | "published";

/** The results fields the design lists, set on publication. */
export interface StoredResults {
  readonly merkleRoot: Uint8Array;
  readonly voteListUrl: string;
  readonly yes: number;
  readonly no: number;
  readonly abstain: number;
  readonly publishedAtMs: number;
}

/** A proposal row: the signed proposal as created, plus the backend's unsigned state. */
export interface ProposalRecord {
  readonly proposalId: string;
  readonly requestId: string;
  readonly proposalNumber: string;
  readonly status: StoredProposalStatus;
  readonly signed: SignedProposal;
  readonly category: string;
  readonly opensAtMs: number;
  readonly closesAtMs: number;
  readonly createdAtMs: number;
  /** When an admin ended voting early. */
  readonly closedAtMs?: number;
  readonly closeReason?: string;
  readonly results?: StoredResults;
}

/**
 * The proposals table (`TABLES.proposals`, key proposal_id; GSI status-index on status +
 * closes_at_ms for the publisher). Item attributes: the design's signature fields
 * (`signed_payload`, `org_signature`, `signing_key_id`, `signature_algorithm`), copies of the
 * fields the backend filters by, the state, and after publication `merkle_root`,
 * `vote_list_url`, `results_yes`, `results_no`, `results_abstain`. One extra item,
 * `proposal_id = "#sequence"`, holds the proposal number counter (never a UUID, so it never
 * collides; listing skips it).
 */
export interface ProposalsTable {
  get(proposalId: string): Promise<ProposalRecord | undefined>;
  /** Stores a new proposal; false when one with this id exists already. */
  create(
    record: Omit<ProposalRecord, "status" | "closedAtMs" | "closeReason" | "results">,
  ): Promise<boolean>;
  /** The next proposal number (1, 2, …), atomically. */
  nextNumber(): Promise<number>;
  /** Every proposal (for listing: proposals are few, written by admins). */
  all(): Promise<ProposalRecord[]>;
  /** Proposals still `active` whose closes_at_ms is at or before `atMs`. */
  activeClosingBy(atMs: number): Promise<ProposalRecord[]>;
  /** Proposals an admin closed early (status `closed`), not yet published. */
  closedEarly(): Promise<ProposalRecord[]>;
  /** Ends voting early: `active` → `closed`, if voting has not ended by `nowMs`; false otherwise. */
  closeEarly(proposalId: string, reason: string, nowMs: number): Promise<boolean>;
  /** Records publication (any state → `published`); false when it was published already. */
  markPublished(proposalId: string, results: StoredResults): Promise<boolean>;
}

/** Key of the counter item. */
const SEQUENCE_KEY = "#sequence";
/** Most proposals `all()` reads: far above what admins create, a bound for a runaway table. */
const MAX_PROPOSALS = 100_000;

/** The proposals table of `context`. */
export function createProposalsTable(context: DynamoContext): ProposalsTable {
  const table = new TableAccess(context, "proposals");
  const name = tableName(context.environment, "proposals");
  const key = (proposalId: string): Item => ({ proposal_id: s(proposalId) });
  const scan = async (filter?: {
    expression: string;
    values: Item;
    names?: Record<string, string>;
  }) => {
    const out: ProposalRecord[] = [];
    let start: Item | undefined;
    try {
      do {
        const page = await context.client.send(
          new ScanCommand({
            TableName: name,
            ConsistentRead: true,
            ...(filter === undefined
              ? {}
              : {
                  FilterExpression: filter.expression,
                  ExpressionAttributeValues: filter.values,
                  ...(filter.names === undefined ? {} : { ExpressionAttributeNames: filter.names }),
                }),
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        );
        for (const item of page.Items ?? []) {
          if (item.signed_payload !== undefined) out.push(fromItem(item));
        }
        start = page.LastEvaluatedKey;
      } while (start !== undefined && out.length < MAX_PROPOSALS);
    } catch (error) {
      throw storageUnavailable("scan", name, error);
    }
    return out;
  };
  return {
    async get(proposalId) {
      const item = await table.get(key(proposalId));
      return item === undefined || item.signed_payload === undefined ? undefined : fromItem(item);
    },
    async create(record) {
      try {
        await context.client.send(
          new PutItemCommand({
            TableName: name,
            Item: {
              ...key(record.proposalId),
              request_id: s(record.requestId),
              proposal_number: s(record.proposalNumber),
              status: s("active"),
              signed_payload: b(record.signed.payload),
              org_signature: b(record.signed.orgSignature),
              signing_key_id: s(record.signed.signingKeyId),
              signature_algorithm: n(record.signed.algorithm),
              category: s(record.category),
              opens_at_ms: n(record.opensAtMs),
              closes_at_ms: n(record.closesAtMs),
              created_at_ms: n(record.createdAtMs),
            },
            ConditionExpression: "attribute_not_exists(proposal_id)",
          }),
        );
        return true;
      } catch (error) {
        if (isConditionalCheckFailed(error)) return false;
        throw storageUnavailable("write", name, error);
      }
    },
    async nextNumber() {
      const item = await table.update(key(SEQUENCE_KEY), {
        expression: "ADD next_number :one",
        values: { ":one": n(1) },
      });
      return getN(item ?? {}, "next_number");
    },
    all: () => scan(),
    async activeClosingBy(atMs) {
      const items = await table.query(
        {
          expression: "#status = :active AND closes_at_ms <= :at",
          names: { "#status": "status" },
          values: { ":active": s("active"), ":at": n(atMs) },
        },
        { index: "status-index", limit: MAX_PROPOSALS },
      );
      return items.map(fromItem);
    },
    async closedEarly() {
      const items = await table.query(
        {
          expression: "#status = :closed",
          names: { "#status": "status" },
          values: { ":closed": s("closed") },
        },
        { index: "status-index", limit: MAX_PROPOSALS },
      );
      return items.map(fromItem);
    },
    async closeEarly(proposalId, reason, nowMs) {
      const updated = await table.update(
        key(proposalId),
        {
          expression: "SET #status = :closed, closed_at_ms = :now, close_reason = :reason",
          names: { "#status": "status" },
          values: { ":closed": s("closed"), ":now": n(nowMs), ":reason": s(reason) },
        },
        {
          expression: "#status = :active AND closes_at_ms > :now",
          names: { "#status": "status" },
          values: { ":active": s("active") },
        },
      );
      return updated !== undefined;
    },
    async markPublished(proposalId, results) {
      const updated = await table.update(
        key(proposalId),
        {
          expression:
            "SET #status = :published, merkle_root = :root, vote_list_url = :url, results_yes = :yes, results_no = :no, results_abstain = :abstain, published_at_ms = :at",
          names: { "#status": "status" },
          values: {
            ":published": s("published"),
            ":root": b(results.merkleRoot),
            ":url": s(results.voteListUrl),
            ":yes": n(results.yes),
            ":no": n(results.no),
            ":abstain": n(results.abstain),
            ":at": n(results.publishedAtMs),
          },
        },
        { expression: "attribute_exists(proposal_id) AND #status <> :published" },
      );
      return updated !== undefined;
    },
  };
}

function fromItem(item: Item): ProposalRecord {
  const status = getS(item, "status");
  const closedAtMs = optN(item, "closed_at_ms");
  const closeReason = optS(item, "close_reason");
  const publishedAtMs = optN(item, "published_at_ms");
  return {
    proposalId: getS(item, "proposal_id"),
    requestId: getS(item, "request_id"),
    proposalNumber: getS(item, "proposal_number"),
    status: status === "published" ? "published" : status === "closed" ? "closed" : "active",
    signed: create(SignedProposalSchema, {
      payload: getB(item, "signed_payload"),
      orgSignature: getB(item, "org_signature"),
      signingKeyId: getS(item, "signing_key_id"),
      algorithm: getN(item, "signature_algorithm") as SignatureAlgorithm,
    }),
    category: getS(item, "category"),
    opensAtMs: getN(item, "opens_at_ms"),
    closesAtMs: getN(item, "closes_at_ms"),
    createdAtMs: getN(item, "created_at_ms"),
    ...(closedAtMs === undefined ? {} : { closedAtMs }),
    ...(closeReason === undefined ? {} : { closeReason }),
    ...(publishedAtMs === undefined
      ? {}
      : {
          results: {
            merkleRoot: getB(item, "merkle_root"),
            voteListUrl: getS(item, "vote_list_url"),
            yes: getN(item, "results_yes"),
            no: getN(item, "results_no"),
            abstain: getN(item, "results_abstain"),
            publishedAtMs,
          },
        }),
  };
}
