/**
 * The voting journey through the real vault: the enclave (supervisor with its vault-managers,
 * parent relaying over a Unix socket) and the voting backend on one real nats-server, members
 * enrolled into real vaults. Each member's vault fetches its subscription statement on unlock;
 * members vote with their passwords through VotingService.CastVote (sealed to the attested enclave
 * key); the enclave batches the votes to the backend; the records in the vault follow the
 * outcome; a re-vote replaces the earlier one; wrong passwords, lapsed subscriptions, forged
 * proposals and votes after close are refused by the vault, forged and replayed votes by the
 * backend; an enclave restart loses no queued vote; the published list verifies and every member
 * finds their own vote in it.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clone, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { connect, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { castVoteInVault } from "../../clients/sdk/session/index.js";
import { createFileSecureStorage } from "../../clients/sdk/storage/index.js";
import {
  attestedEnclaveKeys,
  auditVoteList,
  checkMyVoteProof,
  createMyVotes,
  type MyVotes,
  verifySignedProposal,
} from "../../clients/sdk/voting/index.js";
import {
  createEd25519KeyVerifier,
  nodeSha256,
  verifyEd25519Node,
} from "../../clients/sdk/voting/node.js";
import type { ProteanCredential } from "../../gen/vettid/vault/v1/credential_pb.js";
import { PinService } from "../../gen/vettid/vault/v1/pin_pb.js";
import {
  type VoteRecord,
  VoteSubmissionStatus,
  VotingService,
} from "../../gen/vettid/vault/v1/voting_pb.js";
import { Choice, QuorumType, type SignedProposal } from "../../gen/vettid/voting/v1/proposal_pb.js";
import {
  VoteDisposition,
  VoteRejectReason,
} from "../../gen/vettid/voting/v1/vote_intake_service_pb.js";
import { SignedVoteSchema, VotePayloadSchema } from "../../gen/vettid/voting/v1/vote_pb.js";
import { createLocalP256Signer } from "../../server/signing/index.js";
import { signProposal } from "../../server/voting/index.js";
import { startTestEnclave, type TestEnclave } from "../support/test-enclave.js";
import { fetchVaultSealingKey, memberSession, type TestMember } from "../support/vault-member.js";
import { enrollVoter } from "./support/vault-voter.js";
import { startVotingStack, type VotingStack } from "./support/voting-stack.js";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);
const OPENS = T0 + HOUR;
const CLOSES = T0 + 2 * 24 * HOUR;
const MEMBERS = 12;
const PIN = "493817";
const PASSWORD = "the member's password";

let stack: VotingStack;
let enclave: TestEnclave;
let parentConnection: NatsConnection;
let appConnection: NatsConnection;
let proposal: SignedProposal;
let proposalId: string;
let storageDirectory: string;

/** A member with their vault and the app's "My Votes". */
interface Voter {
  /** Replaced by a new session after an enclave restart (new sealing key). */
  member: TestMember;
  readonly myVotes: MyVotes;
  /** The choice that should count. */
  choice?: Choice;
}
const voters: Voter[] = [];

/** The app session the SDK's castVoteInVault drives: password → authorization → call. */
function session(voter: Voter) {
  return {
    client: voter.member.client,
    async withPassword<R extends { rotatedCredential?: { credential?: ProteanCredential } }>(
      procedure: string,
      password: string,
      call: (authorization: Awaited<ReturnType<TestMember["authorize"]>>) => Promise<R>,
    ): Promise<R> {
      // The test's "hash" stands for Argon2id(password): the right password gives the right hash.
      const hash = password === PASSWORD ? voter.member.passwordHash : new Uint8Array(32).fill(7);
      const response = await call(await voter.member.authorize(procedure, hash));
      const rotated = response.rotatedCredential?.credential;
      if (rotated !== undefined) voter.member.credential = rotated;
      return response;
    },
  } as unknown as Parameters<typeof castVoteInVault>[0];
}

function cast(
  voter: Voter,
  choice: Choice,
  options: { password?: string; signed?: SignedProposal } = {},
) {
  return castVoteInVault(session(voter), {
    password: options.password ?? PASSWORD,
    signedProposal: options.signed ?? proposal,
    choice,
    orgKeys: stack.fixture.orgKeys,
    trust: stack.fixture.attestation,
    myVotes: voter.myVotes,
  });
}

async function listVotes(voter: Voter, proposalFilter = proposalId): Promise<VoteRecord[]> {
  return (await voter.member.client(VotingService).listVotes({ proposalId: proposalFilter })).votes;
}

/**
 * Moves the clock. Vaults lock after 15 idle minutes of the enclave's clock, so the apps unlock
 * again (as a member opening the app does); each unlock refreshes the subscription statement.
 */
async function advanceTo(nowMs: number): Promise<void> {
  stack.clock.now = nowMs;
  for (const voter of voters) await voter.member.client(PinService).unlockVault({ pin: PIN });
  await enclave.voting?.settled();
}

/** Sends the enclave's queued votes now and waits until the vaults recorded the outcomes. */
async function sendBatch(): Promise<void> {
  await enclave.voting?.flush();
  await enclave.voting?.settled();
}

async function refused(promise: Promise<unknown>): Promise<ConnectError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectError);
  return error as ConnectError;
}

beforeAll(async () => {
  stack = await startVotingStack(T0);
  parentConnection = await connect({ servers: stack.natsUrl });
  appConnection = await connect({ servers: stack.natsUrl });
  enclave = await startTestEnclave(parentConnection, {
    nsm: stack.fixture.nsm,
    now: () => stack.clock.now,
    voting: { trust: stack.fixture.trust },
  });
  storageDirectory = await mkdtemp(join(tmpdir(), "vettid-my-votes-"));
  for (let i = 0; i < MEMBERS; i++) {
    // The last member never subscribed: the backend has no member record for them.
    const member = await enrollVoter({
      stack,
      enclave,
      app: appConnection,
      pin: PIN,
      subscribed: i < MEMBERS - 1,
    });
    const storage = await createFileSecureStorage(join(storageDirectory, String(i)));
    voters.push({ member, myVotes: createMyVotes(storage) });
  }
  await enclave.voting?.settled();
}, 180_000);

afterAll(async () => {
  await enclave?.close();
  await parentConnection?.close();
  await appConnection?.close();
  await stack?.stop();
  if (storageDirectory !== undefined) await rm(storageDirectory, { recursive: true, force: true });
});

describe("voting through the vault", () => {
  it("an admin creates a signed proposal; apps verify it with the pinned org key", async () => {
    const { proposal: created } = await stack.proposals.createProposal(
      {
        requestId: randomUUID(),
        title: "Adopt the 2026 bylaws",
        text: "Shall the association adopt the revised bylaws?",
        category: "governance",
        choices: [Choice.YES, Choice.NO, Choice.ABSTAIN],
        opensAtMs: BigInt(OPENS),
        closesAtMs: BigInt(CLOSES),
        quorumType: QuorumType.MIN_VOTES,
        quorumValue: 5n,
      },
      stack.admin,
    );
    proposal = created?.signedProposal as SignedProposal;
    proposalId = created?.proposalId as string;
    expect(verifySignedProposal(proposal, stack.fixture.orgKeys).ok).toBe(true);
  });

  it("the vault signs nothing before the proposal opens", async () => {
    const error = await refused(cast(voters[0] as Voter, Choice.YES));
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.rawMessage).toMatch(/not opened/);
  });

  it("members vote with their passwords; the vault keeps each vote queued and nothing reaches the backend before the batch", async () => {
    await advanceTo(OPENS + 20 * 60_000);
    const choices = [Choice.YES, Choice.NO, Choice.YES, Choice.ABSTAIN];
    for (const [i, voter] of voters.slice(0, MEMBERS - 1).entries()) {
      const choice = choices[i % choices.length] as Choice;
      const credentialBefore = voter.member.credential.cekVersion;
      const record = await cast(voter, choice);
      voter.choice = choice;
      expect(record.status).toBe(VoteSubmissionStatus.QUEUED);
      expect(record.revision).toBe(1);
      expect(record.choice).toBe(choice);
      expect(voter.member.credential.cekVersion).toBeGreaterThan(credentialBefore);
      // The app keeps the receipt.
      expect((await voter.myVotes.latest(proposalId))?.receipt?.voteHash).toEqual(
        record.receipt?.voteHash,
      );
    }
    expect(enclave.voting?.queued).toBe(MEMBERS - 1);
    expect(stack.metrics.filter((m) => m.name === "votes_received")).toHaveLength(0);
    // The signed vote carries a per-proposal voting key, not the identity key, and the hour only.
    const vote = (await listVotes(voters[0] as Voter))[0]?.receipt?.signedVote;
    const payload = fromBinary(VotePayloadSchema, vote?.payload ?? new Uint8Array());
    expect(Number(payload.castAtMs) % HOUR).toBe(0);
    expect(payload.votingPublicKey).not.toEqual(
      await enclave.identityPublicKey(voters[0]?.member.ownerGuid ?? ""),
    );
  });

  it("the batch goes; the backend stores every vote and the vaults' records say SUBMITTED", async () => {
    await sendBatch();
    expect(enclave.voting?.queued).toBe(0);
    for (const voter of voters.slice(0, MEMBERS - 1)) {
      const records = await listVotes(voter);
      expect(records.map((r) => r.status)).toEqual([VoteSubmissionStatus.SUBMITTED]);
      expect(records[0]?.submittedAtMs).toBeGreaterThan(0n);
    }
  });

  it("a wrong password is refused and nothing is signed", async () => {
    const voter = voters[3] as Voter;
    const error = await refused(cast(voter, Choice.NO, { password: "not the password" }));
    expect([Code.PermissionDenied, Code.Unauthenticated]).toContain(error.code);
    expect(await listVotes(voter)).toHaveLength(1);
    expect(enclave.voting?.queued).toBe(0);
  });

  it("a member who never subscribed holds no statement: the vault refuses their vote", async () => {
    const error = await refused(cast(voters[MEMBERS - 1] as Voter, Choice.YES));
    expect(error.code).toBe(Code.PermissionDenied);
    expect(error.rawMessage).toMatch(/no valid subscription/);
  });

  it("the vault refuses a forged proposal before anything is signed", async () => {
    const forged = await signProposal(
      createLocalP256Signer(),
      stack.fixture.proposalPayload({
        opensAtMs: BigInt(OPENS),
        closesAtMs: BigInt(CLOSES),
      }),
    );
    const voter = voters[4] as Voter;
    // The SDK refuses it before calling the vault...
    expect((await refused(cast(voter, Choice.YES, { signed: forged }))).code).toBe(
      Code.PermissionDenied,
    );
    // ...and so does the vault when called directly.
    const direct = await refused(
      voter.member.client(VotingService).castVote({
        signedProposal: forged,
        choice: Choice.YES,
        authorization: await voter.member.authorize("/vettid.vault.v1.VotingService/CastVote"),
      }),
    );
    expect(direct.code).toBe(Code.PermissionDenied);
    expect(await listVotes(voter)).toHaveLength(1);
  });

  it("a member changes their vote before close: the new revision replaces the old one", async () => {
    await advanceTo(OPENS + 6 * HOUR);
    const voter = voters[1] as Voter;
    const first = (await listVotes(voter))[0];
    const second = await cast(voter, Choice.YES);
    voter.choice = Choice.YES;
    expect(second.revision).toBe(2);
    const firstKey = fromBinary(
      VotePayloadSchema,
      first?.receipt?.signedVote?.payload ?? new Uint8Array(),
    ).votingPublicKey;
    const secondKey = fromBinary(
      VotePayloadSchema,
      second.receipt?.signedVote?.payload ?? new Uint8Array(),
    ).votingPublicKey;
    expect(secondKey).toEqual(firstKey);
    await sendBatch();
    const records = await listVotes(voter);
    expect(records.map((r) => [r.revision, r.status])).toEqual([
      [2, VoteSubmissionStatus.SUBMITTED],
      [1, VoteSubmissionStatus.SUPERSEDED],
    ]);
    expect(records[1]?.supersededByVoteHash).toEqual(second.receipt?.voteHash);
  });

  it("the backend refuses a replayed earlier revision and a forged copy of a real vote", async () => {
    const voter = voters[1] as Voter;
    const records = await listVotes(voter);
    const old = records.find((r) => r.revision === 1)?.receipt?.signedVote;
    const certificate = enclave.voting?.countersigner.certificate;
    if (old === undefined || certificate === undefined) throw new Error("no vote or no key");
    const replay = await stack.intake.submitVotes({
      batchId: crypto.getRandomValues(new Uint8Array(16)),
      votes: [old],
      countersigningKeys: [certificate],
    });
    expect(replay.results[0]?.disposition).toBe(VoteDisposition.REJECTED);
    expect(replay.results[0]?.rejectReason).toBe(VoteRejectReason.STALE_REVISION);

    // Another member's vote with its choice changed: the signatures no longer match.
    const real = (await listVotes(voters[2] as Voter))[0]?.receipt?.signedVote;
    const payload = fromBinary(VotePayloadSchema, real?.payload ?? new Uint8Array());
    payload.choice = payload.choice === Choice.YES ? Choice.NO : Choice.YES;
    if (real === undefined) throw new Error("no vote");
    const forged = clone(SignedVoteSchema, real);
    forged.payload = toBinary(VotePayloadSchema, payload);
    const answer = await stack.intake.submitVotes({
      batchId: crypto.getRandomValues(new Uint8Array(16)),
      votes: [forged],
      countersigningKeys: [certificate],
    });
    expect(answer.results[0]?.disposition).toBe(VoteDisposition.REJECTED);
    expect(answer.results[0]?.rejectReason).toBe(VoteRejectReason.BAD_COUNTERSIGNATURE);
  });

  it("an enclave restart before the batch loses no vote: unlocking re-queues it", async () => {
    const voter = voters[5] as Voter;
    const record = await cast(voter, Choice.NO);
    voter.choice = Choice.NO;
    expect(enclave.voting?.queued).toBe(1);
    // The queue is enclave memory: a restart drops it.
    await enclave.restart();
    expect(enclave.voting?.queued).toBe(0);
    // The app re-attests (a new sealing key) and unlocks.
    for (const v of voters) {
      v.member = memberSession({
        member: appConnection,
        ownerGuid: v.member.ownerGuid,
        sealingKey: await fetchVaultSealingKey(
          appConnection,
          v.member.ownerGuid,
          stack.fixture.nsm,
        ),
        passwordHash: v.member.passwordHash,
        credential: v.member.credential,
      });
    }
    await voter.member.client(PinService).unlockVault({ pin: PIN });
    await enclave.voting?.settled();
    expect(enclave.voting?.queued).toBe(1);
    await sendBatch();
    const records = await listVotes(voter);
    expect(records[0]?.receipt?.voteHash).toEqual(record.receipt?.voteHash);
    expect(records[0]?.status).toBe(VoteSubmissionStatus.SUBMITTED);
  });

  it("after close the vault signs nothing; the publisher closes and publishes the list", async () => {
    await advanceTo(CLOSES + HOUR);
    const error = await refused(cast(voters[7] as Voter, Choice.NO));
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.rawMessage).toMatch(/closed/);
    const published = await stack.backend.publisher.closeExpired();
    expect(published).toContain(proposalId);
  });

  it("the published list verifies and counts exactly the members' final choices", async () => {
    const list = (await stack.voteLists.getPublishedVoteList({ proposalId, pageSize: 200 }))
      .voteList;
    if (list === undefined) throw new Error("no list");
    const report = await auditVoteList(list, {
      orgKeys: stack.fixture.orgKeys,
      enclaveKeys: attestedEnclaveKeys(stack.fixture.attestation),
      verifyEd25519: verifyEd25519Node,
      createKeyVerifier: createEd25519KeyVerifier,
      hash: nodeSha256,
    });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    const expected = new Map<Choice, number>();
    for (const voter of voters) {
      if (voter.choice !== undefined)
        expected.set(voter.choice, (expected.get(voter.choice) ?? 0) + 1);
    }
    const counted = new Map<Choice, number>();
    for (const entry of list.entries)
      counted.set(entry.choice, (counted.get(entry.choice) ?? 0) + 1);
    expect(counted).toEqual(expected);
    expect(list.entries).toHaveLength(MEMBERS - 1);
  });

  it("every member finds their kept receipt in the list and checks its proof against the signed head", async () => {
    for (const voter of voters) {
      const mine = await voter.myVotes.latest(proposalId);
      if (voter.choice === undefined) {
        expect(mine).toBeUndefined();
        continue;
      }
      const receipt = mine?.receipt;
      if (receipt === undefined) throw new Error("no receipt kept");
      const proof = await stack.voteLists.getMerkleProof({
        proposalId,
        voteHash: receipt.voteHash,
      });
      expect(checkMyVoteProof(proof, receipt, stack.fixture.orgKeys)).toMatchObject({ ok: true });
    }
  });
  it("a lapsed subscription: the backend stops issuing statements and the held one expires", async () => {
    const voter = voters[6] as Voter;
    // The vault's statement is from its last unlock (now), valid for at most 72 hours.
    const lastFetch = stack.clock.now;
    await stack.members.suspend(voter.member.ownerGuid, "ACCOUNT_CLOSED", stack.clock.now);
    // Later fetches are refused; the vault keeps the statement it has until it expires.
    await advanceTo(lastFetch + 72 * HOUR + 60_000);
    const late = await stack.proposals.createProposal(
      {
        requestId: randomUUID(),
        title: "A second question",
        text: "Shall the meeting move to Thursdays?",
        category: "governance",
        choices: [Choice.YES, Choice.NO],
        opensAtMs: BigInt(stack.clock.now - HOUR),
        closesAtMs: BigInt(stack.clock.now + 24 * HOUR),
        quorumType: QuorumType.NONE,
        quorumValue: 0n,
      },
      stack.admin,
    );
    const error = await refused(
      cast(voter, Choice.YES, { signed: late.proposal?.signedProposal as SignedProposal }),
    );
    expect(error.code).toBe(Code.PermissionDenied);
    expect(error.rawMessage).toMatch(/no valid subscription/);
  });
});
