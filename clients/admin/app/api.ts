import {
  create,
  type DescMessage,
  fromJson,
  type JsonValue,
  type MessageShape,
  toJson,
} from "@bufbuild/protobuf";
import {
  GetProposalResponseSchema,
  ListProposalsResponseSchema,
  type Proposal,
} from "../../../gen/vettid/voting/v1/proposal_service_pb.js";
import {
  type PublishedVoteList,
  PublishedVoteListSchema,
} from "../../../gen/vettid/voting/v1/vote_list_pb.js";
import {
  GetPublishedVoteListRequestSchema,
  GetPublishedVoteListResponseSchema,
} from "../../../gen/vettid/voting/v1/vote_list_service_pb.js";

/** Entries per page when the page downloads a list: the service's largest page. */
const PAGE_SIZE = 5000;

/**
 * Calls a public backend procedure with Connect's unary JSON protocol (a POST with a JSON body),
 * through the admin server's `/api/` proxy, and decodes the answer strictly.
 */
async function call<O extends DescMessage>(
  path: string,
  body: JsonValue,
  output: O,
): Promise<MessageShape<O>> {
  const response = await fetch(`/api/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "connect-protocol-version": "1" },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as JsonValue;
  if (!response.ok) {
    const error = json as { code?: string; message?: string };
    throw new Error(`${path}: ${error.code ?? response.status} ${error.message ?? ""}`.trim());
  }
  return fromJson(output, json);
}

/** Every proposal, newest first (all pages). */
export async function listProposals(): Promise<Proposal[]> {
  const proposals: Proposal[] = [];
  let pageToken = "";
  do {
    const page = await call(
      "vettid.voting.v1.ProposalService/ListProposals",
      { pageSize: 200, pageToken },
      ListProposalsResponseSchema,
    );
    proposals.push(...page.proposals);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return proposals;
}

/** One proposal. */
export async function getProposal(proposalId: string): Promise<Proposal | undefined> {
  return (
    await call(
      "vettid.voting.v1.ProposalService/GetProposal",
      { proposalId },
      GetProposalResponseSchema,
    )
  ).proposal;
}

/** The whole published list, page by page, as one PublishedVoteList. */
export async function fetchVoteList(
  proposalId: string,
  onPage: (entries: number) => void,
): Promise<PublishedVoteList> {
  let list: PublishedVoteList | undefined;
  let pageToken = "";
  do {
    const request = toJson(
      GetPublishedVoteListRequestSchema,
      create(GetPublishedVoteListRequestSchema, { proposalId, pageSize: PAGE_SIZE, pageToken }),
    );
    const page = await call(
      "vettid.voting.v1.VoteListService/GetPublishedVoteList",
      request,
      GetPublishedVoteListResponseSchema,
    );
    if (page.voteList === undefined) throw new Error("a page without a list");
    if (list === undefined)
      list = create(PublishedVoteListSchema, {
        ...page.voteList,
        entries: [...page.voteList.entries],
      });
    else list.entries.push(...page.voteList.entries);
    onPage(list.entries.length);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  if (list === undefined) throw new Error("no list");
  return list;
}
