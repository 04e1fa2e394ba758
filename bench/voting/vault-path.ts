/**
 * Votes cast per second through the whole path, as members cast them: each vote is a password
 * challenge and a sealed VotingService.CastVote call over a real nats-server to the enclave
 * (supervisor and parent relaying over a Unix socket), where the vault checks the password,
 * proposal and subscription, signs, countersigns, stores its record durably (blob files) and
 * rotates the CEK; then the enclave's batch goes to the backend's VoteIntakeService over NATS,
 * which checks both signatures and the attestation and stores each vote in dynalite, and the
 * outcomes are written back into the vaults. Members vote concurrently, each re-voting in turn.
 */
import { randomUUID } from "node:crypto";
import { connect } from "nats";
import { trustKeysNode } from "../../clients/sdk/voting/node.js";
import { VoteSubmissionStatus, VotingService } from "../../gen/vettid/vault/v1/voting_pb.js";
import { Choice, QuorumType } from "../../gen/vettid/voting/v1/proposal_pb.js";
import { startTestEnclave } from "../../test/support/test-enclave.js";
import type { TestMember } from "../../test/support/vault-member.js";
import { enrollVoter } from "../../test/voting/support/vault-voter.js";
import { startVotingStack } from "../../test/voting/support/voting-stack.js";
import { progress } from "../lib/report.js";

/** Members voting at once. */
const MEMBERS = 16;
const CAST_VOTE = "/vettid.vault.v1.VotingService/CastVote";

/** What the whole path measured. */
export interface VaultPathResult {
  readonly votesPerSecond: number;
  readonly votes: number;
  /** Mean time of one member's cast (challenge + CastVote), ms. */
  readonly castMsPerVote: number;
  /** Mean time per vote of sending the batch and writing the outcomes back, ms. */
  readonly submitMsPerVote: number;
}

/** Measures for about `seconds` (after enrolling the members). */
export async function measureVaultPath(seconds: number): Promise<VaultPathResult> {
  progress(
    `voting: whole path — starting the backend and the enclave, enrolling ${MEMBERS} members`,
  );
  const stack = await startVotingStack(Date.now());
  const parentConnection = await connect({ servers: stack.natsUrl });
  const appConnection = await connect({ servers: stack.natsUrl });
  const clock = () => Date.now();
  // The pinned keys as the supervisor loads them (node:crypto P-256, `readVotingKeysFile`).
  const trust = {
    orgKeys: trustKeysNode([(await stack.fixture.orgSigner.describe()).spki]),
    subscriptionKeys: trustKeysNode([(await stack.fixture.subscriptionSigner.describe()).spki]),
  };
  const enclave = await startTestEnclave(parentConnection, {
    nsm: stack.fixture.nsm,
    now: clock,
    voting: { trust },
  });
  try {
    stack.clock.now = Date.now();
    const members: TestMember[] = [];
    for (let i = 0; i < MEMBERS; i++) {
      const member = await enrollVoter({ stack, enclave, app: appConnection, pin: "246813" });
      members.push(member);
    }
    await enclave.voting?.settled();
    stack.clock.now = Date.now();
    const { proposal } = await stack.proposals.createProposal(
      {
        requestId: randomUUID(),
        title: "Bench proposal",
        text: "Votes cast through the whole path.",
        category: "bench",
        choices: [Choice.YES, Choice.NO],
        opensAtMs: BigInt(Date.now() - 60_000),
        closesAtMs: BigInt(Date.now() + 24 * 3_600_000),
        quorumType: QuorumType.NONE,
      },
      stack.admin,
    );
    const signedProposal = proposal?.signedProposal;
    if (signedProposal === undefined) throw new Error("no proposal");

    progress(`voting: whole path — ${MEMBERS} members casting for ${seconds} s`);
    let votes = 0;
    let castMs = 0;
    let submitMs = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    let round = 0;
    while (performance.now() < deadline || votes === 0) {
      round++;
      const choice = round % 2 === 0 ? Choice.YES : Choice.NO;
      const castStart = performance.now();
      await Promise.all(
        members.map(async (member) => {
          const response = await member.client(VotingService).castVote({
            signedProposal,
            choice,
            authorization: await member.authorize(CAST_VOTE),
          });
          const rotated = response.rotatedCredential?.credential;
          if (rotated !== undefined) member.credential = rotated;
          if (response.vote?.status !== VoteSubmissionStatus.QUEUED)
            throw new Error("the vote was not queued");
        }),
      );
      const castEnd = performance.now();
      stack.clock.now = Date.now();
      await enclave.voting?.flush();
      await enclave.voting?.settled();
      submitMs += performance.now() - castEnd;
      castMs += (castEnd - castStart) * MEMBERS;
      votes += MEMBERS;
    }
    const elapsedS = (performance.now() - started) / 1000;
    // Every member's latest vote must have been stored by the backend.
    for (const member of members) {
      const latest = (await member.client(VotingService).listVotes({ pageSize: 1 })).votes[0];
      if (latest?.status !== VoteSubmissionStatus.SUBMITTED)
        throw new Error(`a vote ended ${VoteSubmissionStatus[latest?.status ?? 0]}, not SUBMITTED`);
    }
    return {
      votesPerSecond: votes / elapsedS,
      votes,
      castMsPerVote: castMs / votes,
      submitMsPerVote: submitMs / votes,
    };
  } finally {
    await enclave.close();
    await parentConnection.close();
    await appConnection.close();
    await stack.stop();
  }
}
