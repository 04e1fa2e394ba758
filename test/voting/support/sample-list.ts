/**
 * Test-only: a published vote list built the way the backend builds it (castVote for each member,
 * then buildPublishedVoteList), without the services: for tamper and verifier tests.
 */

import { verifySignedProposal } from "../../../clients/sdk/voting/index.js";
import { castVote } from "../../../enclave/voting/index.js";
import { Choice, type SignedProposal } from "../../../gen/vettid/voting/v1/proposal_pb.js";
import type { PublishedVoteList } from "../../../gen/vettid/voting/v1/vote_list_pb.js";
import { buildPublishedVoteList } from "../../../server/voting/index.js";
import type { VotingFixture } from "./voting-fixture.js";

const HOUR = 3_600_000;
const OPENS = 1_800_000_000_000;

/** A list of `count` votes on a fresh proposal, and the proposal. */
export async function buildSampleList(
  fixture: VotingFixture,
  count: number,
): Promise<{ list: PublishedVoteList; proposal: SignedProposal }> {
  const proposal = await fixture.signProposal({
    opensAtMs: BigInt(OPENS),
    closesAtMs: BigInt(OPENS + 24 * HOUR),
  });
  const verified = verifySignedProposal(proposal, fixture.orgKeys);
  if (!verified.ok) throw new Error(verified.problem);
  const choices = [Choice.YES, Choice.NO, Choice.ABSTAIN];
  const votes = [];
  for (let i = 0; i < count; i++) {
    const member = fixture.member();
    const nowMs = OPENS + 2 * HOUR + i;
    const result = castVote({
      identityPrivateKey: member.identitySeed,
      ownerGuid: member.ownerGuid,
      signedProposal: proposal,
      choice: choices[i % 3] as Choice,
      revision: 1,
      subscriptionStatement: await fixture.statement(member.ownerGuid, nowMs - HOUR, nowMs + HOUR),
      trust: fixture.trust,
      countersigner: fixture.countersigner,
      nowMs,
    });
    votes.push({
      voteHash: result.voteHash,
      choice: choices[i % 3] as Choice,
      votingPublicKey: result.votingPublicKey,
      signedVote: result.signedVote,
    });
  }
  const list = await buildPublishedVoteList({
    signedProposal: proposal,
    proposal: verified.payload,
    proposalHash: verified.proposalHash,
    votes,
    certificates: [fixture.countersigner.certificate],
    eligibleMemberCount: count * 2,
    closedAtMs: OPENS + 24 * HOUR,
    publishedAtMs: OPENS + 25 * HOUR,
    signer: fixture.orgSigner,
  });
  return { list, proposal };
}
