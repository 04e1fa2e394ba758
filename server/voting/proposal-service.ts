import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  choicesProblem,
  PROPOSAL_LIMITS,
  quorumProblem,
  UUID_PATTERN,
} from "../../clients/sdk/voting/index.js";
import { type Choice, ProposalPayloadSchema } from "../../gen/vettid/voting/v1/proposal_pb.js";
import {
  type CreateProposalRequest,
  type Proposal,
  ProposalSchema,
  type ProposalService,
  ProposalStatus,
} from "../../gen/vettid/voting/v1/proposal_service_pb.js";
import { type Logger, silentLogger } from "../logging/index.js";
import type { OrgSigner } from "../signing/index.js";
import type { AdminAuthorizer } from "./admin-authorizer.js";
import { signProposal } from "./backend-signing.js";
import type { ProposalRecord, ProposalsTable } from "./proposals-table.js";
import type { VoteListsTable } from "./vote-lists-table.js";
import { noMetrics, type VotingMetrics } from "./voting-metrics.js";
import { proposalStatus } from "./voting-window.js";

/** Page size of ListProposals when the caller gives none (proposal_service.proto). */
export const DEFAULT_PROPOSAL_PAGE_SIZE = 50;
/** Largest page of ListProposals (proposal_service.proto). */
export const MAX_PROPOSAL_PAGE_SIZE = 200;
/** Longest close reason, in characters (proposal_service.proto). */
export const MAX_CLOSE_REASON_LENGTH = 500;

/** What ProposalService needs. */
export interface ProposalServiceDeps {
  readonly proposals: ProposalsTable;
  readonly voteLists: VoteListsTable;
  /** The org key: KMS in production, the local signer in development. */
  readonly signer: OrgSigner;
  /** Checks the admin RPCs' bearer token. */
  readonly authorizeAdmin: AdminAuthorizer;
  /** Default `Date.now`. */
  readonly now?: () => number;
  readonly logger?: Logger;
  readonly metrics?: VotingMetrics;
}

/**
 * ProposalService (HTTP, Connect protocol): admins create (signed with the org key over the
 * deterministic ProposalPayload bytes) and close proposals; anyone lists and reads them. Every
 * Proposal served carries the signed proposal exactly as stored, and once published the signed
 * head and the list URL.
 *
 * Ids: a proposal's id is a UUIDv8 derived from the request_id (SHA-256 of
 * "vettid-proposal-id-v1" || 0x00 || request_id), which makes CreateProposal idempotent without a
 * second table: a retry finds the proposal its first attempt stored.
 */
export function createProposalService(
  deps: ProposalServiceDeps,
): ServiceImpl<typeof ProposalService> {
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? silentLogger;
  const metrics = deps.metrics ?? noMetrics;

  const toProposal = async (record: ProposalRecord, nowMs: number): Promise<Proposal> => {
    const status = proposalStatus(record, nowMs);
    const list =
      status === ProposalStatus.PUBLISHED ? await deps.voteLists.get(record.proposalId) : undefined;
    return create(ProposalSchema, {
      proposalId: record.proposalId,
      status,
      signedProposal: record.signed,
      closeReason: record.closeReason ?? "",
      ...(list === undefined
        ? {}
        : { results: { signedHead: list.signedHead, voteListUrl: list.voteListUrl } }),
    });
  };

  return {
    async createProposal(request: CreateProposalRequest, context: HandlerContext) {
      await deps.authorizeAdmin(context.requestHeader);
      const nowMs = now();
      validateCreate(request, nowMs);
      const proposalId = proposalIdFor(request.requestId);
      const existing = await deps.proposals.get(proposalId);
      if (existing !== undefined) return { proposal: await toProposal(existing, nowMs) };
      const number = await deps.proposals.nextNumber();
      const payload = create(ProposalPayloadSchema, {
        proposalId,
        proposalNumber: `P${String(number).padStart(7, "0")}`,
        title: request.title,
        text: request.text,
        category: request.category,
        choices: request.choices,
        opensAtMs: request.opensAtMs,
        closesAtMs: request.closesAtMs,
        quorumType: request.quorumType,
        quorumValue: request.quorumValue,
        createdAtMs: BigInt(nowMs),
      });
      const signed = await signProposal(deps.signer, payload);
      const record = {
        proposalId,
        requestId: request.requestId,
        proposalNumber: payload.proposalNumber,
        signed,
        category: request.category,
        opensAtMs: Number(request.opensAtMs),
        closesAtMs: Number(request.closesAtMs),
        createdAtMs: nowMs,
      };
      const created = await deps.proposals.create(record);
      const stored = created
        ? { ...record, status: "active" as const }
        : await deps.proposals.get(proposalId);
      if (stored === undefined)
        throw new ConnectError("the proposal could not be stored", Code.Unavailable);
      if (created) {
        metrics.count("proposals_created", 1);
        logger.info("proposal_created", {
          proposal_id: proposalId,
          proposal_number: payload.proposalNumber,
        });
      }
      return { proposal: await toProposal(stored, nowMs) };
    },

    async closeProposal(request, context) {
      await deps.authorizeAdmin(context.requestHeader);
      const reason = request.reason.trim();
      if (reason.length === 0 || [...request.reason].length > MAX_CLOSE_REASON_LENGTH) {
        throw new ConnectError(
          `reason must be 1 to ${MAX_CLOSE_REASON_LENGTH} characters`,
          Code.InvalidArgument,
        );
      }
      const record = await deps.proposals.get(request.proposalId);
      if (record === undefined) throw new ConnectError("no such proposal", Code.NotFound);
      const nowMs = now();
      if (await deps.proposals.closeEarly(record.proposalId, request.reason, nowMs)) {
        metrics.count("proposals_closed_early", 1);
        logger.info("proposal_closed_early", { proposal_id: record.proposalId });
      }
      const after = (await deps.proposals.get(record.proposalId)) ?? record;
      return { proposal: await toProposal(after, nowMs) };
    },

    async listProposals(request) {
      const nowMs = now();
      const pageSize =
        request.pageSize === 0
          ? DEFAULT_PROPOSAL_PAGE_SIZE
          : Math.min(request.pageSize, MAX_PROPOSAL_PAGE_SIZE);
      const after = request.pageToken === "" ? undefined : decodeListToken(request.pageToken);
      const wanted = new Set(request.statuses);
      const matching = (await deps.proposals.all())
        .filter((record) => wanted.size === 0 || wanted.has(proposalStatus(record, nowMs)))
        .filter((record) => request.category === "" || record.category === request.category)
        .sort(newestFirst);
      const start =
        after === undefined ? 0 : matching.findIndex((record) => newestFirst(record, after) > 0);
      const page = start < 0 ? [] : matching.slice(start, start + pageSize);
      const last = page[page.length - 1];
      const more = start >= 0 && start + pageSize < matching.length;
      return {
        proposals: await Promise.all(page.map((record) => toProposal(record, nowMs))),
        nextPageToken: more && last !== undefined ? encodeListToken(last) : "",
      };
    },

    async getProposal(request) {
      const record = UUID_PATTERN.test(request.proposalId)
        ? await deps.proposals.get(request.proposalId)
        : undefined;
      if (record === undefined) throw new ConnectError("no such proposal", Code.NotFound);
      return { proposal: await toProposal(record, now()) };
    },
  };
}

/** The proposal id for a CreateProposal request_id: a UUIDv8 (RFC 9562 §5.8) from SHA-256. */
export function proposalIdFor(requestId: string): string {
  const digest = createHash("sha256").update(`vettid-proposal-id-v1\0${requestId}`).digest();
  digest[6] = ((digest[6] as number) & 0x0f) | 0x80; // version 8
  digest[8] = ((digest[8] as number) & 0x3f) | 0x80; // variant 10
  const hex = digest.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function validateCreate(request: CreateProposalRequest, nowMs: number): void {
  const problems: string[] = [];
  if (!UUID_PATTERN.test(request.requestId)) problems.push("request_id is not a lowercase UUID");
  const length = (text: string) => [...text].length;
  if (length(request.title) === 0 || length(request.title) > PROPOSAL_LIMITS.titleMax) {
    problems.push(`title must be 1 to ${PROPOSAL_LIMITS.titleMax} characters`);
  }
  if (length(request.text) === 0 || length(request.text) > PROPOSAL_LIMITS.textMax) {
    problems.push(`text must be 1 to ${PROPOSAL_LIMITS.textMax} characters`);
  }
  if (length(request.category) === 0 || length(request.category) > PROPOSAL_LIMITS.categoryMax) {
    problems.push(`category must be 1 to ${PROPOSAL_LIMITS.categoryMax} characters`);
  }
  const choices = choicesProblem(request.choices as Choice[]);
  if (choices !== undefined) problems.push(choices);
  if (request.opensAtMs <= 0n) problems.push("opens_at_ms must be positive");
  if (request.closesAtMs <= request.opensAtMs)
    problems.push("closes_at_ms must be after opens_at_ms");
  if (request.closesAtMs <= BigInt(nowMs)) problems.push("closes_at_ms must be in the future");
  if (request.closesAtMs > BigInt(Number.MAX_SAFE_INTEGER))
    problems.push("closes_at_ms is out of range");
  const quorum = quorumProblem(request.quorumType, request.quorumValue);
  if (quorum !== undefined) problems.push(quorum);
  if (problems.length > 0) throw new ConnectError(problems.join("; "), Code.InvalidArgument);
}

function newestFirst(
  a: Pick<ProposalRecord, "opensAtMs" | "proposalId">,
  b: Pick<ProposalRecord, "opensAtMs" | "proposalId">,
): number {
  if (a.opensAtMs !== b.opensAtMs) return b.opensAtMs - a.opensAtMs;
  return a.proposalId < b.proposalId ? -1 : a.proposalId > b.proposalId ? 1 : 0;
}

function encodeListToken(record: ProposalRecord): string {
  return Buffer.from(JSON.stringify({ o: record.opensAtMs, p: record.proposalId })).toString(
    "base64url",
  );
}

function decodeListToken(token: string): Pick<ProposalRecord, "opensAtMs" | "proposalId"> {
  try {
    const value = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as {
      o?: unknown;
      p?: unknown;
    };
    if (
      typeof value.o === "number" &&
      Number.isSafeInteger(value.o) &&
      typeof value.p === "string" &&
      UUID_PATTERN.test(value.p)
    ) {
      return { opensAtMs: value.o, proposalId: value.p };
    }
  } catch {
    // fall through
  }
  throw new ConnectError("page_token is not one this service issued", Code.InvalidArgument);
}
