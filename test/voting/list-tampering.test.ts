/**
 * Altering any field of any published vote, dropping one, adding one, reordering, or touching the
 * list's header is caught by the verifier, which names the problem.
 */
import { clone, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ed25519 } from "@noble/curves/ed25519.js";
import { beforeAll, describe, expect, it } from "vitest";
import {
  attestedEnclaveKeys,
  auditVoteList,
  signedMessage,
  VOTE_SIGNATURE_CONTEXT,
  type VoteListAuditReport,
  voteHash,
} from "../../clients/sdk/voting/index.js";
import {
  createEd25519KeyVerifier,
  nodeSha256,
  verifyEd25519Node,
} from "../../clients/sdk/voting/node.js";
import { Choice } from "../../gen/vettid/voting/v1/proposal_pb.js";
import {
  type PublishedVoteList,
  PublishedVoteListSchema,
} from "../../gen/vettid/voting/v1/vote_list_pb.js";
import { VotePayloadSchema } from "../../gen/vettid/voting/v1/vote_pb.js";
import { buildSampleList } from "./support/sample-list.js";
import { createVotingFixture, type VotingFixture } from "./support/voting-fixture.js";

const COUNT = 9;
let fixture: VotingFixture;
let pristine: PublishedVoteList;

beforeAll(async () => {
  fixture = await createVotingFixture();
  pristine = (await buildSampleList(fixture, COUNT)).list;
}, 60_000);

function audit(list: PublishedVoteList): Promise<VoteListAuditReport> {
  return auditVoteList(list, {
    orgKeys: fixture.orgKeys,
    enclaveKeys: attestedEnclaveKeys(fixture.attestation),
    verifyEd25519: verifyEd25519Node,
    createKeyVerifier: createEd25519KeyVerifier,
    hash: nodeSha256,
  });
}

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice();
  copy[at % copy.length] = (copy[at % copy.length] as number) ^ 0x01;
  return copy;
}

type EntryMutation = [string, (list: PublishedVoteList, i: number) => void, RegExp];

const ENTRY_MUTATIONS: EntryMutation[] = [
  [
    "vote_hash",
    (l, i) => {
      const e = l.entries[i];
      if (e) e.voteHash = flip(e.voteHash, 5);
    },
    /vote_hash|ascending|Merkle root/,
  ],
  [
    "choice",
    (l, i) => {
      const e = l.entries[i];
      if (e) e.choice = e.choice === Choice.YES ? Choice.NO : Choice.YES;
    },
    /listed choice differs/,
  ],
  [
    "voting_public_key",
    (l, i) => {
      const e = l.entries[i];
      if (e) e.votingPublicKey = flip(e.votingPublicKey, 3);
    },
    /voting_public_key differs/,
  ],
  [
    "payload (first byte)",
    (l, i) => {
      const v = l.entries[i]?.signedVote;
      if (v) v.payload = flip(v.payload, 0);
    },
    /./,
  ],
  [
    "payload (nonce byte)",
    (l, i) => {
      const v = l.entries[i]?.signedVote;
      if (v) v.payload = flip(v.payload, v.payload.length - 20);
    },
    /./,
  ],
  [
    "payload (last byte)",
    (l, i) => {
      const v = l.entries[i]?.signedVote;
      if (v) v.payload = flip(v.payload, v.payload.length - 1);
    },
    /./,
  ],
  [
    "voting_signature",
    (l, i) => {
      const v = l.entries[i]?.signedVote;
      if (v) v.votingSignature = flip(v.votingSignature, 7);
    },
    /voting signature does not verify/,
  ],
  [
    "enclave_countersignature",
    (l, i) => {
      const v = l.entries[i]?.signedVote;
      if (v) v.enclaveCountersignature = flip(v.enclaveCountersignature, 40);
    },
    /countersignature does not verify/,
  ],
  [
    "enclave_key_id",
    (l, i) => {
      const v = l.entries[i]?.signedVote;
      if (v) v.enclaveKeyId = "cd".repeat(32);
    },
    /no valid certificate/,
  ],
  [
    "signed_vote removed",
    (l, i) => {
      const e = l.entries[i];
      if (e) e.signedVote = undefined;
    },
    /signed vote is missing/,
  ],
];

describe("tampering with a published list", () => {
  it("the pristine list verifies", async () => {
    const report = await audit(pristine);
    expect(report.problems).toEqual([]);
    expect(report.validEntries).toBe(COUNT);
  });

  for (const [field, mutate, expected] of ENTRY_MUTATIONS) {
    it(`altering ${field} of any entry is caught and named`, async () => {
      for (let i = 0; i < COUNT; i++) {
        const list = clone(PublishedVoteListSchema, pristine);
        mutate(list, i);
        const report = await audit(list);
        expect(report.ok, `${field} of entry ${i}`).toBe(false);
        expect(report.problems.join("\n"), `${field} of entry ${i}`).toMatch(expected);
        expect(
          report.problems.some((p) => p.startsWith(`entry ${i} `)) ||
            /Merkle|recount/.test(report.problems.join()),
          field,
        ).toBe(true);
      }
    });
  }

  it("dropping any entry is caught (size, root, recount)", async () => {
    for (let i = 0; i < COUNT; i++) {
      const list = clone(PublishedVoteListSchema, pristine);
      list.entries.splice(i, 1);
      const report = await audit(list);
      expect(report.ok).toBe(false);
      expect(report.problems.join("\n")).toMatch(/entries; the signed head says 9/);
      expect(report.problems.join("\n")).toMatch(/Merkle root/);
    }
  });

  it("adding an entry is caught: a copy of another, or a genuinely signed vote the head does not count", async () => {
    const duplicate = clone(PublishedVoteListSchema, pristine);
    duplicate.entries.splice(3, 0, clone(PublishedVoteListSchema, pristine).entries[3] as never);
    const dupReport = await audit(duplicate);
    expect(dupReport.ok).toBe(false);
    expect(dupReport.problems.join("\n")).toMatch(/ascending|appears twice/);

    const extra = (await buildSampleList(fixture, 1)).list;
    // A vote for another proposal, genuinely signed and countersigned, slipped in.
    const added = clone(PublishedVoteListSchema, pristine);
    added.entries.push(extra.entries[0] as never);
    added.entries.sort((a, b) => Buffer.compare(Buffer.from(a.voteHash), Buffer.from(b.voteHash)));
    const addedReport = await audit(added);
    expect(addedReport.ok).toBe(false);
    expect(addedReport.problems.join("\n")).toMatch(/another proposal/);
    expect(addedReport.problems.join("\n")).toMatch(/10 entries/);
  });

  it("reordering entries is caught", async () => {
    const list = clone(PublishedVoteListSchema, pristine);
    const [a, b] = [list.entries[2], list.entries[5]];
    if (a && b) [list.entries[2], list.entries[5]] = [b, a];
    const report = await audit(list);
    expect(report.ok).toBe(false);
    expect(report.problems.join("\n")).toMatch(/ascending/);
  });

  it("altering the header is caught: counts, root, size, the signed head, the proposal, the certificates", async () => {
    const cases: [string, (l: PublishedVoteList) => void, RegExp][] = [
      [
        "counts",
        (l) => {
          const c = l.counts[0];
          if (c) c.count += 1n;
        },
        /counts differ/,
      ],
      [
        "merkle_root",
        (l) => {
          l.merkleRoot = flip(l.merkleRoot, 0);
        },
        /merkle_root differs/,
      ],
      [
        "tree_size",
        (l) => {
          l.treeSize += 1n;
        },
        /tree_size differs/,
      ],
      [
        "total_votes",
        (l) => {
          l.totalVotes -= 1n;
        },
        /total_votes differs/,
      ],
      [
        "signed head payload",
        (l) => {
          if (l.signedHead) l.signedHead.payload = flip(l.signedHead.payload, 10);
        },
        /vote list head: the signature does not verify/,
      ],
      [
        "signed proposal payload",
        (l) => {
          if (l.signedProposal) l.signedProposal.payload = flip(l.signedProposal.payload, 10);
        },
        /proposal: the signature does not verify/,
      ],
      [
        "proposal_id",
        (l) => {
          l.proposalId = "00000000-0000-4000-8000-000000000000";
        },
        /proposal_id of the list/,
      ],
      [
        "certificates removed",
        (l) => {
          l.countersigningKeys = [];
        },
        /no valid certificate/,
      ],
      [
        "certificate's document",
        (l) => {
          const c = l.countersigningKeys[0];
          if (c) c.attestationDocument = flip(c.attestationDocument, 300);
        },
        /attestation document refused/,
      ],
    ];
    for (const [what, mutate, expected] of cases) {
      const list = clone(PublishedVoteListSchema, pristine);
      mutate(list);
      const report = await audit(list);
      expect(report.ok, what).toBe(false);
      expect(report.problems.join("\n"), what).toMatch(expected);
    }
  });

  it("a vote rewritten and re-signed by someone without the enclave key is caught", async () => {
    const list = clone(PublishedVoteListSchema, pristine);
    const entry = list.entries[4];
    const vote = entry?.signedVote;
    if (entry === undefined || vote === undefined) throw new Error("no entry");
    const payload = fromBinary(VotePayloadSchema, vote.payload);
    const seed = ed25519.utils.randomSecretKey();
    payload.choice = payload.choice === Choice.YES ? Choice.NO : Choice.YES;
    payload.votingPublicKey = ed25519.getPublicKey(seed);
    vote.payload = toBinary(VotePayloadSchema, payload);
    vote.votingSignature = ed25519.sign(signedMessage(VOTE_SIGNATURE_CONTEXT, vote.payload), seed);
    entry.voteHash = voteHash(vote, nodeSha256);
    entry.choice = payload.choice;
    entry.votingPublicKey = payload.votingPublicKey;
    list.entries.sort((a, b) => Buffer.compare(Buffer.from(a.voteHash), Buffer.from(b.voteHash)));
    const report = await audit(list);
    expect(report.ok).toBe(false);
    expect(report.problems.join("\n")).toMatch(/countersignature does not verify/);
    expect(report.problems.join("\n")).toMatch(/Merkle root/);
  });
});
