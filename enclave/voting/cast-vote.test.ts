import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { beforeAll, describe, expect, it } from "vitest";
import {
  checkSignedVote,
  trustKeys,
  verifyEnclaveVoteKeyCertificate,
  voteHash,
} from "../../clients/sdk/voting/index.js";
import { createEd25519KeyVerifier } from "../../clients/sdk/voting/node.js";
import { Choice, ProposalPayloadSchema } from "../../gen/vettid/voting/v1/proposal_pb.js";
import { VotePayloadSchema } from "../../gen/vettid/voting/v1/vote_pb.js";
import { createLocalP256Signer } from "../../server/signing/index.js";
import { signProposal } from "../../server/voting/backend-signing.js";
import {
  createVotingFixture,
  type VotingFixture,
} from "../../test/voting/support/voting-fixture.js";
import { type CastVoteInput, castVote } from "./cast-vote.js";
import { deriveVotingKey } from "./voting-key.js";

const OPENS = 1_700_000_000_000;
const NOW = OPENS + 5 * 3_600_000 + 45 * 60_000 + 12_345;

let fixture: VotingFixture;
beforeAll(async () => {
  fixture = await createVotingFixture();
});

async function input(overrides: Partial<CastVoteInput> = {}): Promise<CastVoteInput> {
  const member = fixture.member();
  return {
    identityPrivateKey: member.identitySeed,
    ownerGuid: member.ownerGuid,
    signedProposal: await fixture.signProposal({ opensAtMs: BigInt(OPENS) }),
    choice: Choice.NO,
    revision: 1,
    subscriptionStatement: await fixture.statement(
      member.ownerGuid,
      NOW - 3_600_000,
      NOW + 48 * 3_600_000,
    ),
    trust: fixture.trust,
    countersigner: fixture.countersigner,
    nowMs: NOW,
    ...overrides,
  };
}

async function refusal(promise: Promise<CastVoteInput>): Promise<ConnectError> {
  const value = await promise;
  try {
    castVote(value);
  } catch (error) {
    if (error instanceof ConnectError) return error;
    throw error;
  }
  throw new Error("castVote did not refuse");
}

describe("castVote", () => {
  it("signs a payload with every field the schema names, countersigned, checkable by the backend", async () => {
    const given = await input();
    const result = castVote(given);
    const payload = fromBinary(VotePayloadSchema, result.signedVote.payload);
    const proposal = fromBinary(
      ProposalPayloadSchema,
      given.signedProposal?.payload ?? new Uint8Array(),
    );
    expect(payload.proposalId).toBe(proposal.proposalId);
    expect(payload.choice).toBe(Choice.NO);
    expect(payload.nonce).toHaveLength(32);
    expect(payload.castAtMs).toBe(BigInt(Math.floor(NOW / 3_600_000) * 3_600_000));
    expect(payload.revision).toBe(1);
    expect(payload.votingPublicKey).toEqual(
      deriveVotingKey(given.identityPrivateKey, proposal.proposalId).publicKey,
    );
    expect(result.voteHash).toEqual(voteHash(result.signedVote));
    expect(result.receipt.voteHash).toEqual(result.voteHash);
    const cert = verifyEnclaveVoteKeyCertificate(
      fixture.countersigner.certificate,
      fixture.attestation,
    );
    expect(cert.ok).toBe(true);
    const checked = checkSignedVote(
      result.signedVote,
      {
        proposalId: proposal.proposalId,
        proposalHash: payload.proposalHash,
        choices: proposal.choices,
      },
      {
        countersignatureVerifier: (id) =>
          id === fixture.countersigner.keyId && cert.ok
            ? createEd25519KeyVerifier(cert.publicKey)
            : undefined,
      },
    );
    expect(checked.ok).toBe(true);
  });
  it("gives a fresh nonce (and vote hash) every time, the same voting key per proposal", async () => {
    const given = await input();
    const a = castVote(given);
    const b = castVote({ ...given, revision: 2 });
    expect(a.votingPublicKey).toEqual(b.votingPublicKey);
    expect(a.voteHash).not.toEqual(b.voteHash);
  });
  it("refuses a forged proposal (another key) as permission_denied", async () => {
    const forger = createLocalP256Signer();
    const forged = await signProposal(
      forger,
      fixture.proposalPayload({ opensAtMs: BigInt(OPENS) }),
    );
    const error = await refusal(input({ signedProposal: forged }));
    expect(error.code).toBe(Code.PermissionDenied);
    expect(error.rawMessage).toMatch(/not a pinned key/);
  });
  it("refuses a proposal whose signed bytes were altered as permission_denied", async () => {
    const given = await input();
    const altered = structuredClone(given.signedProposal);
    if (altered !== undefined) altered.payload[0] = (altered.payload[0] as number) ^ 1;
    expect((await refusal(Promise.resolve({ ...given, signedProposal: altered }))).code).toBe(
      Code.PermissionDenied,
    );
  });
  it("refuses a properly signed but unusable proposal as invalid_argument", async () => {
    const signer = fixture.orgSigner;
    const bad = await signProposal(signer, fixture.proposalPayload({ choices: [] }));
    const error = await refusal(input({ signedProposal: bad }));
    expect(error.code).toBe(Code.InvalidArgument);
  });
  it("refuses outside [opens_at_ms, closes_at_ms) as failed_precondition", async () => {
    const given = await input();
    expect((await refusal(Promise.resolve({ ...given, nowMs: OPENS - 1 }))).code).toBe(
      Code.FailedPrecondition,
    );
    const closes = OPENS + 7 * 86_400_000;
    const late = {
      ...given,
      nowMs: closes,
      subscriptionStatement: await fixture.statement(given.ownerGuid, closes - 1000, closes + 1000),
    };
    expect((await refusal(Promise.resolve(late))).code).toBe(Code.FailedPrecondition);
  });
  it("refuses a choice the proposal does not offer as invalid_argument", async () => {
    const proposal = await fixture.signProposal({
      opensAtMs: BigInt(OPENS),
      choices: [Choice.YES, Choice.NO],
    });
    expect((await refusal(input({ signedProposal: proposal, choice: Choice.ABSTAIN }))).code).toBe(
      Code.InvalidArgument,
    );
    expect((await refusal(input({ choice: Choice.UNSPECIFIED }))).code).toBe(Code.InvalidArgument);
  });
  it("refuses without a valid subscription statement: none, expired, another member's, forged", async () => {
    const given = await input();
    const cases = [
      undefined,
      await fixture.statement(given.ownerGuid, NOW - 72 * 3_600_000, NOW),
      await fixture.statement(fixture.member().ownerGuid, NOW - 1000, NOW + 3_600_000),
    ];
    for (const statement of cases) {
      const error = await refusal(Promise.resolve({ ...given, subscriptionStatement: statement }));
      expect(error.code).toBe(Code.PermissionDenied);
      expect(error.rawMessage).toMatch(/subscription/);
    }
    const forged = await refusal(
      Promise.resolve({
        ...given,
        trust: {
          ...given.trust,
          subscriptionKeys: trustKeys([(await createLocalP256Signer().describe()).spki]),
        },
      }),
    );
    expect(forged.code).toBe(Code.PermissionDenied);
  });
  it("refuses a revision of 0", async () => {
    expect((await refusal(input({ revision: 0 }))).code).toBe(Code.InvalidArgument);
  });
});
