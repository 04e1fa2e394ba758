import { create, toBinary } from "@bufbuild/protobuf";
import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import { compareBytes, voteHash } from "../../clients/sdk/voting/index.js";
import {
  type SubmitVotesRequest,
  SubmitVotesResponseSchema,
  VoteDisposition,
} from "../../gen/vettid/voting/v1/vote_intake_service_pb.js";
import {
  EnclaveVoteKeyCertificateSchema,
  SignedVoteSchema,
  VotePayloadSchema,
} from "../../gen/vettid/voting/v1/vote_pb.js";
import {
  type BatchScheduler,
  createVoteBatcher,
  type QueuedVote,
  type VoteOutcome,
} from "./vote-batcher.js";

/** Timers driven by the test: `advance(ms)` runs what falls due, in order. */
function manualScheduler(start = 1_000_000) {
  let now = start;
  let id = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  const scheduler: BatchScheduler = {
    setTimeout(callback, ms) {
      timers.set(++id, { at: now + ms, callback });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    now: () => now,
  };
  return {
    scheduler,
    pending: () => timers.size,
    async advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()]
          .filter(([, t]) => t.at <= end)
          .sort((a, b) => a[1].at - b[1].at)[0];
        if (due === undefined) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].callback();
        await new Promise((resolve) => setImmediate(resolve));
      }
      now = end;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

const certificate = create(EnclaveVoteKeyCertificateSchema, { keyId: "ab".repeat(32) });

function vote(
  options: { proposalId?: string; key?: Uint8Array; revision?: number; closesAtMs?: number } = {},
): QueuedVote {
  const votingPublicKey = options.key ?? ed25519.getPublicKey(ed25519.utils.randomSecretKey());
  const payload = toBinary(
    VotePayloadSchema,
    create(VotePayloadSchema, {
      proposalId: options.proposalId ?? "0b8f3c1e-2a4d-4e6f-8a9b-1c2d3e4f5a6b",
      votingPublicKey,
      nonce: crypto.getRandomValues(new Uint8Array(32)),
      revision: options.revision ?? 1,
    }),
  );
  const signedVote = create(SignedVoteSchema, { payload, enclaveKeyId: certificate.keyId });
  return {
    signedVote,
    voteHash: voteHash(signedVote),
    proposalId: options.proposalId ?? "0b8f3c1e-2a4d-4e6f-8a9b-1c2d3e4f5a6b",
    votingPublicKey,
    revision: options.revision ?? 1,
    closesAtMs: options.closesAtMs ?? 10_000_000_000,
    certificate,
  };
}

function accepting(requests: SubmitVotesRequest[]) {
  return async (request: SubmitVotesRequest) => {
    requests.push(request);
    return create(SubmitVotesResponseSchema, {
      results: request.votes.map((v) => ({
        voteHash: voteHash(v),
        disposition: VoteDisposition.ACCEPTED,
      })),
    });
  };
}

describe("vote batcher", () => {
  it("sends nothing at the member's call; sends at the interval, sorted by vote hash, with the certificate", async () => {
    const clock = manualScheduler();
    const requests: SubmitVotesRequest[] = [];
    const outcomes: [Uint8Array, VoteOutcome][] = [];
    const batcher = createVoteBatcher({
      submit: accepting(requests),
      onOutcome: (hash, outcome) => outcomes.push([hash, outcome]),
      scheduler: clock.scheduler,
      intervalMs: 60_000,
    });
    batcher.start();
    const votes = Array.from({ length: 25 }, () => vote());
    for (const v of votes) batcher.enqueue(v);
    await clock.advance(59_999);
    expect(requests).toHaveLength(0);
    await clock.advance(1);
    expect(requests).toHaveLength(1);
    const sent = requests[0]?.votes.map((v) => voteHash(v)) ?? [];
    expect(sent).toHaveLength(25);
    for (let i = 1; i < sent.length; i++)
      expect(compareBytes(sent[i - 1] as Uint8Array, sent[i] as Uint8Array)).toBeLessThan(0);
    expect(requests[0]?.batchId).toHaveLength(16);
    expect(requests[0]?.countersigningKeys.map((c) => c.keyId)).toEqual([certificate.keyId]);
    expect(outcomes).toHaveLength(25);
    // An empty tick sends nothing.
    await clock.advance(60_000);
    expect(requests).toHaveLength(1);
    batcher.stop();
    expect(clock.pending()).toBe(0);
  });

  it("a re-vote still queued replaces the earlier revision, which is never sent", async () => {
    const requests: SubmitVotesRequest[] = [];
    const outcomes: [Uint8Array, VoteOutcome][] = [];
    const batcher = createVoteBatcher({
      submit: accepting(requests),
      onOutcome: (h, o) => outcomes.push([h, o]),
    });
    const key = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
    const first = vote({ key, revision: 1 });
    const second = vote({ key, revision: 2 });
    batcher.enqueue(first);
    batcher.enqueue(second);
    batcher.enqueue(vote({ key, revision: 1 })); // a stale one arriving late is superseded at once
    expect(batcher.queued).toBe(1);
    await batcher.flush();
    expect(requests[0]?.votes).toHaveLength(1);
    expect(voteHash(requests[0]?.votes[0] ?? create(SignedVoteSchema))).toEqual(second.voteHash);
    const superseded = outcomes.filter(([, o]) => o.kind === "superseded");
    expect(superseded).toHaveLength(2);
    expect(superseded[0]?.[0]).toEqual(first.voteHash);
  });

  it("flushes right after a proposal closes", async () => {
    const clock = manualScheduler();
    const requests: SubmitVotesRequest[] = [];
    const batcher = createVoteBatcher({
      submit: accepting(requests),
      onOutcome: () => {},
      scheduler: clock.scheduler,
      closeFlushDelayMs: 30_000,
    });
    batcher.start();
    batcher.enqueue(vote({ closesAtMs: 1_000_000 + 120_000 }));
    await clock.advance(149_999);
    expect(requests).toHaveLength(0);
    await clock.advance(1);
    expect(requests).toHaveLength(1);
    batcher.stop();
  });

  it("a proposal closing after the next tick adds no flush: the vote waits for the tick", async () => {
    const clock = manualScheduler();
    const requests: SubmitVotesRequest[] = [];
    const batcher = createVoteBatcher({
      submit: accepting(requests),
      onOutcome: () => {},
      scheduler: clock.scheduler,
      intervalMs: 600_000,
    });
    batcher.start();
    // Closes in 30 days: past what a timer can wait (2^31 ms), which would otherwise fire at once.
    batcher.enqueue(vote({ closesAtMs: 1_000_000 + 30 * 86_400_000 }));
    expect(clock.pending()).toBe(1);
    await clock.advance(599_999);
    expect(requests).toHaveLength(0);
    await clock.advance(1);
    expect(requests).toHaveLength(1);
    batcher.stop();
  });

  it("keeps a batch that failed and resends it first, with the same batch id", async () => {
    const requests: SubmitVotesRequest[] = [];
    let fail = true;
    const errors: unknown[] = [];
    const accept = accepting(requests);
    const batcher = createVoteBatcher({
      submit: async (request) => {
        if (fail) {
          requests.push(request);
          throw new Error("no responders");
        }
        return accept(request);
      },
      onOutcome: () => {},
      onSubmitError: (error) => errors.push(error),
    });
    batcher.enqueue(vote());
    await batcher.flush();
    expect(errors).toHaveLength(1);
    fail = false;
    batcher.enqueue(vote());
    await batcher.flush();
    expect(requests).toHaveLength(3);
    expect(requests[1]?.batchId).toEqual(requests[0]?.batchId);
    expect(requests[1]?.votes).toEqual(requests[0]?.votes);
    expect(requests[2]?.batchId).not.toEqual(requests[0]?.batchId);
  });

  it("splits more than 1000 votes into batches of at most 1000", async () => {
    const requests: SubmitVotesRequest[] = [];
    const batcher = createVoteBatcher({ submit: accepting(requests), onOutcome: () => {} });
    for (let i = 0; i < 2100; i++) batcher.enqueue(vote());
    await batcher.flush();
    expect(requests.map((r) => r.votes.length)).toEqual([1000, 1000, 100]);
  });

  it("refuses an interval over ten minutes", () => {
    expect(() =>
      createVoteBatcher({ submit: accepting([]), onOutcome: () => {}, intervalMs: 11 * 60_000 }),
    ).toThrow(RangeError);
  });
});
