/**
 * The voting journey without the vault-manager: admins create signed proposals; members' vaults
 * (enclave/voting functions) check subscription statements fetched over NATS, sign and
 * countersign votes and submit them in batches to the backend's VoteIntakeService over a real
 * nats-server; votes change before close; forged, replayed, late and small-order votes are
 * refused; the backend publishes the list, which verifies, and every member finds their vote.
 */
import { randomUUID } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ed25519 } from "@noble/curves/ed25519.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  attestedEnclaveKeys,
  auditVoteList,
  checkMyVoteInList,
  checkMyVoteProof,
  decodeVoteListJson,
  signedMessage,
  VOTE_COUNTERSIGNATURE_CONTEXT,
  VOTE_SIGNATURE_CONTEXT,
  verifySignedProposal,
  verifySignedVoteListHead,
} from "../../clients/sdk/voting/index.js";
import {
  createEd25519KeyVerifier,
  nodeSha256,
  verifyEd25519Node,
} from "../../clients/sdk/voting/node.js";
import { createDevNsm } from "../../enclave/nsm/index.js";
import { createFilesystemBlobStore } from "../../enclave/storage/index.js";
import {
  createEnclaveVoteCountersigner,
  createVoteBatcher,
  natsVoteSubmitter,
  type VoteOutcome,
} from "../../enclave/voting/index.js";
import { Choice, QuorumType, type SignedProposal } from "../../gen/vettid/voting/v1/proposal_pb.js";
import { ProposalStatus } from "../../gen/vettid/voting/v1/proposal_service_pb.js";
import {
  VoteDisposition,
  VoteRejectReason,
  type VoteSubmissionResult,
} from "../../gen/vettid/voting/v1/vote_intake_service_pb.js";
import type { PublishedVoteList } from "../../gen/vettid/voting/v1/vote_list_pb.js";
import {
  type SignedVote,
  SignedVoteSchema,
  VotePayloadSchema,
} from "../../gen/vettid/voting/v1/vote_pb.js";
import { createNatsTransport } from "../../rpc/index.js";
import { createLocalP256Signer } from "../../server/signing/index.js";
import { signProposal, signSubscriptionStatement } from "../../server/voting/index.js";
import { createTestVault, type TestVault } from "./support/test-vault.js";
import { startVotingStack, type VotingStack } from "./support/voting-stack.js";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 15, 9, 0, 0);
const OPENS = T0 + HOUR;
const CLOSES = T0 + 2 * 24 * HOUR;
const MEMBERS = 24;

let stack: VotingStack;
let proposal: SignedProposal;
let proposalId: string;
const vaults: TestVault[] = [];
const outcomes = new Map<string, VoteOutcome>();
let batcher: ReturnType<typeof createVoteBatcher>;
const finalChoice = new Map<TestVault, Choice>();

beforeAll(async () => {
  stack = await startVotingStack(T0);
  batcher = createVoteBatcher({
    submit: natsVoteSubmitter(createNatsTransport({ connection: stack.enclaveConnection })),
    onOutcome: (hash, outcome) => outcomes.set(Buffer.from(hash).toString("hex"), outcome),
  });
}, 60_000);

afterAll(async () => {
  batcher?.stop();
  await stack?.stop();
});

function outcomeOf(hash: Uint8Array): VoteOutcome | undefined {
  return outcomes.get(Buffer.from(hash).toString("hex"));
}

async function submitOne(vote: SignedVote): Promise<VoteSubmissionResult> {
  const { results } = await stack.intake.submitVotes({
    batchId: crypto.getRandomValues(new Uint8Array(16)),
    votes: [vote],
    countersigningKeys: [stack.fixture.countersigner.certificate],
  });
  const result = results[0];
  if (result === undefined) throw new Error("no result");
  return result;
}

/** A vote built by hand: payload fields, then voting signature and countersignature as given. */
function craftVote(options: {
  votingSeed?: Uint8Array;
  votingPublicKey?: Uint8Array;
  choice?: Choice;
  castAtMs?: number;
  revision?: number;
  proposalHash?: Uint8Array;
  proposalIdOverride?: string;
  votingSignature?: (payload: Uint8Array) => Uint8Array;
  countersign?: (payload: Uint8Array) => Uint8Array;
  enclaveKeyId?: string;
}): SignedVote {
  const seed = options.votingSeed ?? ed25519.utils.randomSecretKey();
  const verified = verifySignedProposal(proposal, stack.fixture.orgKeys);
  if (!verified.ok) throw new Error(verified.problem);
  const payload = toBinary(
    VotePayloadSchema,
    create(VotePayloadSchema, {
      proposalId: options.proposalIdOverride ?? proposalId,
      proposalHash: options.proposalHash ?? verified.proposalHash,
      choice: options.choice ?? Choice.YES,
      votingPublicKey: options.votingPublicKey ?? ed25519.getPublicKey(seed),
      nonce: crypto.getRandomValues(new Uint8Array(32)),
      castAtMs: BigInt(options.castAtMs ?? Math.floor(stack.clock.now / HOUR) * HOUR),
      revision: options.revision ?? 1,
    }),
  );
  return create(SignedVoteSchema, {
    payload,
    votingSignature:
      options.votingSignature?.(payload) ??
      ed25519.sign(signedMessage(VOTE_SIGNATURE_CONTEXT, payload), seed),
    enclaveCountersignature:
      options.countersign?.(payload) ?? stack.fixture.countersigner.countersign(payload),
    enclaveKeyId: options.enclaveKeyId ?? stack.fixture.countersigner.keyId,
  });
}

async function fetchPublishedList(): Promise<PublishedVoteList> {
  const first = await stack.voteLists.getPublishedVoteList({ proposalId, pageSize: 7 });
  const list = first.voteList;
  if (list === undefined) throw new Error("no list");
  let token = first.nextPageToken;
  while (token !== "") {
    const page = await stack.voteLists.getPublishedVoteList({
      proposalId,
      pageSize: 7,
      pageToken: token,
    });
    list.entries.push(...(page.voteList?.entries ?? []));
    token = page.nextPageToken;
  }
  return list;
}

const auditOptions = () => ({
  orgKeys: stack.fixture.orgKeys,
  enclaveKeys: attestedEnclaveKeys(stack.fixture.attestation),
  verifyEd25519: verifyEd25519Node,
  createKeyVerifier: createEd25519KeyVerifier,
  hash: nodeSha256,
});

describe("voting journey", () => {
  it("an admin creates a signed proposal over HTTP; without the admin token it is refused", async () => {
    const request = {
      requestId: randomUUID(),
      title: "Budget allocation 2026",
      text: "Shall the budget be allocated as proposed?",
      category: "budget",
      choices: [Choice.YES, Choice.NO, Choice.ABSTAIN],
      opensAtMs: BigInt(OPENS),
      closesAtMs: BigInt(CLOSES),
      quorumType: QuorumType.MIN_VOTES,
      quorumValue: 10n,
    };
    const refused = await stack.proposals.createProposal(request).catch((e: unknown) => e);
    expect((refused as ConnectError).code).toBe(Code.Unauthenticated);
    const { proposal: created } = await stack.proposals.createProposal(request, stack.admin);
    expect(created?.status).toBe(ProposalStatus.UPCOMING);
    const retried = await stack.proposals.createProposal(request, stack.admin);
    expect(retried.proposal?.proposalId).toBe(created?.proposalId);
    proposal = created?.signedProposal as SignedProposal;
    proposalId = created?.proposalId as string;
  });

  it("apps and vaults verify the proposal with the pinned org key before showing or voting", async () => {
    const { proposal: fetched } = await stack.proposals.getProposal({ proposalId });
    const verified = verifySignedProposal(fetched?.signedProposal, stack.fixture.orgKeys);
    expect(verified.ok).toBe(true);
    if (verified.ok) {
      expect(verified.payload.proposalId).toBe(proposalId);
      expect(verified.payload.proposalNumber).toMatch(/^P\d{7}$/);
    }
  });

  it("members' vaults fetch subscription statements over NATS; an unknown member gets none", async () => {
    for (let i = 0; i < MEMBERS; i++) {
      const member = stack.fixture.member();
      await stack.enroll(member);
      const vault = createTestVault(member, stack.fixture, stack.subscriptions, batcher);
      await vault.refreshSubscription(stack.clock.now);
      vaults.push(vault);
    }
    const unknown = await stack.subscriptions
      .getSubscriptionStatement({ ownerGuid: randomUUID() })
      .catch((e: unknown) => e);
    expect((unknown as ConnectError).code).toBe(Code.NotFound);
  });

  it("no vault signs before the proposal opens", () => {
    expect(() => vaults[0]?.vote(proposal, Choice.YES, stack.clock.now)).toThrow(/not opened/);
  });

  it("members vote; nothing reaches the backend until the batch goes; the batch is accepted", async () => {
    stack.clock.now = OPENS + 30 * 60_000;
    const choices = [Choice.YES, Choice.NO, Choice.ABSTAIN, Choice.YES];
    vaults.forEach((vault, i) => {
      const choice = choices[i % choices.length] as Choice;
      vault.vote(proposal, choice, stack.clock.now + i * 1000);
      finalChoice.set(vault, choice);
    });
    expect(stack.metrics.filter((m) => m.name === "votes_received")).toHaveLength(0);
    await batcher.flush();
    for (const vault of vaults) {
      const outcome = outcomeOf(vault.receipts[0]?.voteHash ?? new Uint8Array());
      expect(outcome?.kind === "result" && outcome.result.disposition).toBe(
        VoteDisposition.ACCEPTED,
      );
    }
  });

  it("a member changes their vote before close: the new revision replaces the old one", async () => {
    stack.clock.now = OPENS + 5 * HOUR;
    const vault = vaults[1] as TestVault;
    const first = vault.receipts[0];
    const second = vault.vote(proposal, Choice.YES, stack.clock.now);
    finalChoice.set(vault, Choice.YES);
    expect(second.votingPublicKey).toEqual(first?.votingPublicKey);
    await batcher.flush();
    const outcome = outcomeOf(second.voteHash);
    expect(outcome?.kind).toBe("result");
    if (outcome?.kind === "result") {
      expect(outcome.result.disposition).toBe(VoteDisposition.ACCEPTED);
      expect(outcome.result.replacedVoteHash).toEqual(first?.voteHash);
    }
  });

  it("a re-vote queued twice before the batch only sends the latest", async () => {
    const vault = vaults[2] as TestVault;
    const a = vault.vote(proposal, Choice.NO, stack.clock.now);
    const b = vault.vote(proposal, Choice.YES, stack.clock.now);
    finalChoice.set(vault, Choice.YES);
    await batcher.flush();
    expect(outcomeOf(a.voteHash)?.kind).toBe("superseded");
    const outcome = outcomeOf(b.voteHash);
    expect(outcome?.kind === "result" && outcome.result.disposition).toBe(VoteDisposition.ACCEPTED);
  });

  it("the vault refuses without a valid subscription statement: expired, another member's, wrongly signed", async () => {
    const vault = vaults[3] as TestVault;
    const expired = await stack.fixture.statement(
      vault.member.ownerGuid,
      stack.clock.now - 10 * HOUR,
      stack.clock.now - 1,
    );
    const foreign = await stack.fixture.statement(
      randomUUID(),
      stack.clock.now - HOUR,
      stack.clock.now + HOUR,
    );
    const forged = await signSubscriptionStatement(createLocalP256Signer(), {
      $typeName: "vettid.voting.v1.SubscriptionStatementPayload",
      ownerGuid: vault.member.ownerGuid,
      issuedAtMs: BigInt(stack.clock.now),
      validUntilMs: BigInt(stack.clock.now + HOUR),
    });
    for (const statement of [expired, foreign, forged, undefined]) {
      vault.setSubscription(statement);
      const error = (() => {
        try {
          vault.vote(proposal, Choice.NO, stack.clock.now);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.PermissionDenied);
    }
    await vault.refreshSubscription(stack.clock.now);
  });

  it("the vault refuses a forged proposal (signed by a key that is not pinned)", async () => {
    const forged = await signProposal(
      createLocalP256Signer(),
      stack.fixture.proposalPayload({ opensAtMs: BigInt(OPENS) }),
    );
    const error = (() => {
      try {
        vaults[4]?.vote(forged, Choice.YES, stack.clock.now);
      } catch (e) {
        return e;
      }
    })();
    expect((error as ConnectError).code).toBe(Code.PermissionDenied);
  });

  it("the backend refuses forged votes: bad voting signature, bad countersignature, unattested or unknown enclave key", async () => {
    const forgedVoting = craftVote({
      votingSignature: () => ed25519.sign(new Uint8Array([1]), ed25519.utils.randomSecretKey()),
    });
    expect((await submitOne(forgedVoting)).rejectReason).toBe(
      VoteRejectReason.BAD_VOTING_SIGNATURE,
    );

    const forgedCounter = craftVote({
      countersign: (payload) =>
        ed25519.sign(
          signedMessage(VOTE_COUNTERSIGNATURE_CONTEXT, payload),
          ed25519.utils.randomSecretKey(),
        ),
    });
    expect((await submitOne(forgedCounter)).rejectReason).toBe(
      VoteRejectReason.BAD_COUNTERSIGNATURE,
    );

    // An enclave attested under another root (not a VettID build the backend trusts).
    const rogue = await createEnclaveVoteCountersigner(createDevNsm());
    const rogueVote = craftVote({ countersign: rogue.countersign, enclaveKeyId: rogue.keyId });
    const { results } = await stack.intake.submitVotes({
      batchId: crypto.getRandomValues(new Uint8Array(16)),
      votes: [rogueVote],
      countersigningKeys: [rogue.certificate],
    });
    expect(results[0]?.rejectReason).toBe(VoteRejectReason.UNTRUSTED_ENCLAVE_KEY);

    const unknownKey = craftVote({ enclaveKeyId: "ab".repeat(32) });
    const unknown = await stack.intake.submitVotes({
      batchId: new Uint8Array(16),
      votes: [unknownKey],
      countersigningKeys: [],
    });
    expect(unknown.results[0]?.rejectReason).toBe(VoteRejectReason.UNKNOWN_ENCLAVE_KEY);
  });

  it("the backend refuses a small-order voting key, even with a signature node:crypto alone accepts", async () => {
    const identityPoint = new Uint8Array(32);
    identityPoint[0] = 1;
    // R = the identity, S = 0: satisfies [S]B = R + [k]A for A = identity, whatever the message.
    const trivialSignature = new Uint8Array(64);
    trivialSignature[0] = 1;
    const vote = craftVote({
      votingPublicKey: identityPoint,
      votingSignature: () => trivialSignature,
    });
    const { verify, createPublicKey } = await import("node:crypto");
    const nodeAlone = verify(
      null,
      signedMessage(VOTE_SIGNATURE_CONTEXT, vote.payload),
      createPublicKey({
        key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(identityPoint).toString("base64url") },
        format: "jwk",
      }),
      trivialSignature,
    );
    expect(nodeAlone).toBe(true);
    expect((await submitOne(vote)).rejectReason).toBe(VoteRejectReason.BAD_VOTING_SIGNATURE);
  });

  it("a replayed vote changes nothing: the same vote is ALREADY_ACCEPTED, an older revision is STALE", async () => {
    const vault = vaults[1] as TestVault;
    const latest = vault.receipts[vault.receipts.length - 1];
    const older = vault.receipts[0];
    expect((await submitOne(latest?.signedVote as SignedVote)).disposition).toBe(
      VoteDisposition.ALREADY_ACCEPTED,
    );
    const stale = await submitOne(older?.signedVote as SignedVote);
    expect(stale.rejectReason).toBe(VoteRejectReason.STALE_REVISION);
    expect(stale.currentRevision).toBe(2);
  });

  it("the backend refuses malformed votes, other proposals, wrong proposal hashes, choices not offered, bad timing", async () => {
    expect(
      (await submitOne(create(SignedVoteSchema, { payload: new Uint8Array([0xff]) }))).rejectReason,
    ).toBe(VoteRejectReason.MALFORMED);
    expect((await submitOne(craftVote({ proposalIdOverride: randomUUID() }))).rejectReason).toBe(
      VoteRejectReason.UNKNOWN_PROPOSAL,
    );
    expect((await submitOne(craftVote({ proposalHash: new Uint8Array(32) }))).rejectReason).toBe(
      VoteRejectReason.PROPOSAL_HASH_MISMATCH,
    );
    expect((await submitOne(craftVote({ choice: 7 as Choice }))).rejectReason).toBe(
      VoteRejectReason.MALFORMED,
    );
    expect((await submitOne(craftVote({ castAtMs: OPENS - 2 * HOUR }))).rejectReason).toBe(
      VoteRejectReason.VOTING_NOT_OPEN,
    );
    expect(
      (await submitOne(craftVote({ castAtMs: Math.ceil(CLOSES / HOUR) * HOUR }))).rejectReason,
    ).toBe(VoteRejectReason.VOTING_CLOSED);
    expect((await submitOne(craftVote({ castAtMs: stack.clock.now + 1 }))).rejectReason).toBe(
      VoteRejectReason.MALFORMED,
    );
    const batchError = await stack.intake
      .submitVotes({ batchId: new Uint8Array(3), votes: [craftVote({})] })
      .catch((e: unknown) => e);
    expect((batchError as ConnectError).code).toBe(Code.InvalidArgument);
  });

  it("a proposal offering only YES and NO refuses ABSTAIN at the vault and at the backend", async () => {
    const { proposal: yesNo } = await stack.proposals.createProposal(
      {
        requestId: randomUUID(),
        title: "Yes or no",
        text: "A binary question.",
        category: "governance",
        choices: [Choice.YES, Choice.NO],
        opensAtMs: BigInt(OPENS),
        closesAtMs: BigInt(CLOSES),
        quorumType: QuorumType.NONE,
        quorumValue: 0n,
      },
      stack.admin,
    );
    const signed = yesNo?.signedProposal as SignedProposal;
    expect(() => vaults[5]?.vote(signed, Choice.ABSTAIN, stack.clock.now)).toThrow(/not one of/);
    const verified = verifySignedProposal(signed, stack.fixture.orgKeys);
    if (!verified.ok) throw new Error(verified.problem);
    const vote = craftVote({
      choice: Choice.ABSTAIN,
      proposalIdOverride: yesNo?.proposalId,
      proposalHash: verified.proposalHash,
    });
    expect((await submitOne(vote)).rejectReason).toBe(VoteRejectReason.CHOICE_NOT_ALLOWED);
  });

  it("after close the vault signs nothing; late batches are accepted within the grace period, refused after", async () => {
    const lateSigned = vaults[6]?.vote(proposal, Choice.NO, CLOSES - 60_000);
    finalChoice.set(vaults[6] as TestVault, Choice.NO);
    stack.clock.now = CLOSES + 1;
    await vaults[6]?.refreshSubscription(stack.clock.now);
    expect(() => vaults[6]?.vote(proposal, Choice.YES, stack.clock.now)).toThrow(/closed/);
    stack.clock.now = CLOSES + 10 * 60_000;
    await batcher.flush();
    const outcome = outcomeOf(lateSigned?.voteHash ?? new Uint8Array());
    expect(outcome?.kind === "result" && outcome.result.disposition).toBe(VoteDisposition.ACCEPTED);
    stack.clock.now = CLOSES + 16 * 60_000;
    const tooLate = craftVote({ castAtMs: Math.floor((CLOSES - HOUR) / HOUR) * HOUR });
    expect((await submitOne(tooLate)).rejectReason).toBe(VoteRejectReason.VOTING_CLOSED);
  });

  it("the publisher closes the expired proposal and publishes a signed list; the proposal shows results", async () => {
    stack.clock.now = CLOSES + 17 * 60_000;
    const published = await stack.backend.publisher.closeExpired();
    expect(published).toContain(proposalId);
    const { proposal: after } = await stack.proposals.getProposal({ proposalId });
    expect(after?.status).toBe(ProposalStatus.PUBLISHED);
    const head = verifySignedVoteListHead(after?.results?.signedHead, stack.fixture.orgKeys);
    expect(head.ok).toBe(true);
    if (!head.ok) return;
    const expected = new Map<Choice, bigint>([
      [Choice.YES, 0n],
      [Choice.NO, 0n],
      [Choice.ABSTAIN, 0n],
    ]);
    for (const choice of finalChoice.values())
      expected.set(choice, (expected.get(choice) ?? 0n) + 1n);
    expect(head.head.counts.map((c) => [c.choice, c.count])).toEqual([...expected.entries()]);
    expect(head.head.treeSize).toBe(BigInt(finalChoice.size));
    expect(head.head.quorumMet).toBe(true);
    expect(after?.results?.voteListUrl).toMatch(/vote-lists\/.*\.binpb$/);
    // Publishing again changes nothing.
    expect(await stack.backend.publisher.closeExpired()).not.toContain(proposalId);
  });

  it("the published list verifies end to end: every signature, the attestation, the root, the counts", async () => {
    const list = await fetchPublishedList();
    expect(list.entries).toHaveLength(finalChoice.size);
    const report = await auditVoteList(list, auditOptions());
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it("every member finds their vote by voting key and checks its inclusion proof against the signed head", async () => {
    const list = await fetchPublishedList();
    for (const vault of vaults) {
      const last = vault.receipts[vault.receipts.length - 1];
      if (last === undefined || last.proposal.proposalId !== proposalId) continue;
      const response = await stack.voteLists.getMerkleProof({
        proposalId,
        voteHash: last.voteHash,
      });
      expect(checkMyVoteProof(response, last.receipt, stack.fixture.orgKeys)).toMatchObject({
        ok: true,
      });
      expect(
        checkMyVoteInList(list, last.receipt, last.votingPublicKey, stack.fixture.orgKeys),
      ).toMatchObject({ ok: true });
    }
    const replaced = vaults[1]?.receipts[0];
    const gone = await stack.voteLists
      .getMerkleProof({ proposalId, voteHash: replaced?.voteHash ?? new Uint8Array(32) })
      .catch((e: unknown) => e);
    expect((gone as ConnectError).code).toBe(Code.NotFound);
    expect(
      checkMyVoteInList(
        list,
        replaced?.receipt as never,
        replaced?.votingPublicKey as Uint8Array,
        stack.fixture.orgKeys,
      ),
    ).toMatchObject({ ok: false });
  });

  it("an admin closes another proposal early; votes cast after the close are refused", async () => {
    stack.clock.now = T0 + 3 * HOUR;
    const { proposal: other } = await stack.proposals.createProposal(
      {
        requestId: randomUUID(),
        title: "Withdrawn",
        text: "Published in error.",
        category: "governance",
        choices: [Choice.YES, Choice.NO],
        opensAtMs: BigInt(T0),
        closesAtMs: BigInt(T0 + 10 * 24 * HOUR),
        quorumType: QuorumType.NONE,
        quorumValue: 0n,
      },
      stack.admin,
    );
    const closed = await stack.proposals.closeProposal(
      { proposalId: other?.proposalId ?? "", reason: "published in error" },
      stack.admin,
    );
    expect(closed.proposal?.status).toBe(ProposalStatus.CLOSED);
    expect(closed.proposal?.closeReason).toBe("published in error");
    const verified = verifySignedProposal(other?.signedProposal, stack.fixture.orgKeys);
    if (!verified.ok) throw new Error(verified.problem);
    const later = craftVote({
      proposalIdOverride: other?.proposalId,
      proposalHash: verified.proposalHash,
      castAtMs: T0 + 4 * HOUR,
    });
    stack.clock.now = T0 + 4 * HOUR + 60_000;
    expect((await submitOne(later)).rejectReason).toBe(VoteRejectReason.VOTING_CLOSED);
    const missing = await stack.proposals
      .closeProposal({ proposalId: randomUUID(), reason: "x" }, stack.admin)
      .catch((e: unknown) => e);
    expect((missing as ConnectError).code).toBe(Code.NotFound);
  });

  it("lists proposals newest first, filtered by status, page by page", async () => {
    const all = await stack.proposals.listProposals({ pageSize: 2 });
    expect(all.proposals).toHaveLength(2);
    const rest = await stack.proposals.listProposals({ pageSize: 2, pageToken: all.nextPageToken });
    const ids = [...all.proposals, ...rest.proposals].map((p) => p.proposalId);
    expect(new Set(ids).size).toBe(3);
    const published = await stack.proposals.listProposals({ statuses: [ProposalStatus.PUBLISHED] });
    expect(published.proposals.map((p) => p.proposalId)).toContain(proposalId);
    expect(published.proposals.every((p) => p.status === ProposalStatus.PUBLISHED)).toBe(true);
    expect(published.proposals).toHaveLength(2); // the YES/NO proposal closed at the same time
    const bad = await stack.proposals
      .listProposals({ pageToken: "nonsense" })
      .catch((e: unknown) => e);
    expect((bad as ConnectError).code).toBe(Code.InvalidArgument);
  });

  it("the JSON file decodes to the same list", async () => {
    const blob = await createFilesystemBlobStore({
      directory: stack.blobDirectory,
      maxObjectBytes: 2 ** 30,
    }).get(`vote-lists/${proposalId}.json`);
    expect(blob.outcome).toBe("ok");
    if (blob.outcome !== "ok") return;
    const fromJson = decodeVoteListJson(blob.data);
    const report = await auditVoteList(fromJson, auditOptions());
    expect(report.ok).toBe(true);
    expect(fromJson.entries.map((e) => Buffer.from(e.voteHash).toString("hex"))).toEqual(
      (await fetchPublishedList()).entries.map((e) => Buffer.from(e.voteHash).toString("hex")),
    );
  });
});
