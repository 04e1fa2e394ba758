/**
 * Votes cast per second through the path that exists today, in one process: the vault's
 * castVote (proposal and subscription statement verified, voting key derived, signed,
 * countersigned), then the backend's VoteIntakeService handler (enclave certificate, both
 * signatures, timing) storing into the votes table in dynalite. NATS is left out: the rpc part
 * measures it.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { ed25519 } from "@noble/curves/ed25519.js";
import { trustKeysNode } from "../../clients/sdk/voting/node.js";
import { createDevNsm } from "../../enclave/nsm/index.js";
import { createFilesystemBlobStore } from "../../enclave/storage/index.js";
import { castVote, createEnclaveVoteCountersigner } from "../../enclave/voting/index.js";
import { PcrSetSchema } from "../../gen/vettid/attestation/v1/pcr_pb.js";
import { Choice, QuorumType } from "../../gen/vettid/voting/v1/proposal_pb.js";
import type { SubscriptionStatement } from "../../gen/vettid/voting/v1/subscription_pb.js";
import {
  SubmitVotesRequestSchema,
  VoteDisposition,
} from "../../gen/vettid/voting/v1/vote_intake_service_pb.js";
import { createLocalP256Signer } from "../../server/signing/index.js";
import { createDynamoClient, ensureTables } from "../../server/storage/index.js";
import {
  createEnclaveKeyStore,
  createProposalsTable,
  createVoteIntakeService,
  createVotesTable,
  signProposal,
  signSubscriptionStatement,
  type VotesTable,
} from "../../server/voting/index.js";
import { progress } from "../lib/report.js";

/** Votes per intake batch in this measurement. */
const BATCH = 100;
const HOUR = 3_600_000;

/** What the cast path measured. */
export interface CastPathResult {
  readonly votesPerSecond: number;
  readonly votes: number;
  /** Share of the time in castVote, in the intake's checks, and in the store (with `breakdown`). */
  readonly castUsPerVote: number;
  readonly intakeUsPerVote: number;
  readonly storeUsPerVote: number | undefined;
}

/** Measures the cast path for about `seconds`. */
export async function measureCastPath(
  seconds: number,
  breakdown: boolean,
): Promise<CastPathResult> {
  const dynalite = createRequire(import.meta.url)("dynalite") as (options: object) => Server;
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address() as AddressInfo;
  const client = createDynamoClient({ endpoint: `http://127.0.0.1:${address.port}` });
  const blobDirectory = await mkdtemp(join(tmpdir(), "vettid-bench-voting-"));
  try {
    await ensureTables(client, "bench", { tables: ["proposals", "votes"] });
    const dynamo = { client, environment: "bench" };
    const orgSigner = createLocalP256Signer();
    const subscriptionSigner = createLocalP256Signer();
    // The enclave and the backend verify P-256 with node:crypto (trustKeysNode).
    const orgKeys = trustKeysNode([(await orgSigner.describe()).spki]);
    const subscriptionKeys = trustKeysNode([(await subscriptionSigner.describe()).spki]);
    const nsm = createDevNsm();
    const { pcrs } = await nsm.describePcrs();
    const attestation = {
      devRootSha256: (await nsm.rootCertificate()).fingerprintSha256,
      allowDevRoot: true,
      pcrSets: [
        create(PcrSetSchema, {
          id: "bench",
          pcrs: Object.fromEntries(pcrs.filter((p) => p.index <= 2).map((p) => [p.index, p.value])),
        }),
      ],
    };
    const countersigner = await createEnclaveVoteCountersigner(nsm);
    const now = Date.UTC(2026, 5, 1, 12, 0, 0);
    const proposalId = randomUUID();
    const proposals = createProposalsTable(dynamo);
    const signed = await signProposal(orgSigner, {
      $typeName: "vettid.voting.v1.ProposalPayload",
      proposalId,
      proposalNumber: "P0000001",
      title: "Bench",
      text: "Cast path.",
      category: "bench",
      choices: [Choice.YES, Choice.NO, Choice.ABSTAIN],
      opensAtMs: BigInt(now - HOUR),
      closesAtMs: BigInt(now + 24 * HOUR),
      quorumType: QuorumType.NONE,
      quorumValue: 0n,
      createdAtMs: BigInt(now - 2 * HOUR),
    });
    await proposals.create({
      proposalId,
      requestId: randomUUID(),
      proposalNumber: "P0000001",
      signed,
      category: "bench",
      opensAtMs: now - HOUR,
      closesAtMs: now + 24 * HOUR,
      createdAtMs: now - 2 * HOUR,
    });
    const enclaveKeys = createEnclaveKeyStore(
      createFilesystemBlobStore({ directory: blobDirectory }),
      attestation,
    );
    const realVotes = createVotesTable(dynamo);
    const noStore: VotesTable = {
      put: async () => ({ kind: "accepted" }),
      list: async function* () {},
    };
    const intake = (votes: VotesTable) =>
      createVoteIntakeService({ proposals, votes, enclaveKeys, orgKeys, now: () => now });
    const context = {} as HandlerContext;
    const members = Array.from({ length: 4000 }, () => ({
      ownerGuid: randomUUID(),
      seed: ed25519.utils.randomSecretKey(),
    }));
    const statements = new Map<string, SubscriptionStatement>();
    let memberIndex = 0;
    const castBatch = async () => {
      const results = [];
      for (let i = 0; i < BATCH; i++) {
        const member = members[memberIndex++ % members.length] as (typeof members)[number];
        let statement = statements.get(member.ownerGuid);
        if (statement === undefined) {
          statement = await signSubscriptionStatement(subscriptionSigner, {
            $typeName: "vettid.voting.v1.SubscriptionStatementPayload",
            ownerGuid: member.ownerGuid,
            issuedAtMs: BigInt(now - HOUR),
            validUntilMs: BigInt(now + HOUR),
          });
          statements.set(member.ownerGuid, statement);
        }
        results.push(
          castVote({
            identityPrivateKey: member.seed,
            ownerGuid: member.ownerGuid,
            signedProposal: signed,
            choice: Choice.YES,
            revision: Math.floor((memberIndex - 1) / members.length) + 1,
            subscriptionStatement: statement,
            trust: { orgKeys, subscriptionKeys },
            countersigner,
            nowMs: now,
          }),
        );
      }
      return results;
    };
    // Statements are signed once per member, outside the timed loops.
    for (let i = 0; i < members.length / BATCH; i++) await castBatch();
    memberIndex = 0;

    const run = async (votes: VotesTable, ms: number) => {
      const service = intake(votes);
      let count = 0;
      let castNs = 0n;
      let intakeNs = 0n;
      const deadline = process.hrtime.bigint() + BigInt(Math.round(ms * 1e6));
      const started = process.hrtime.bigint();
      while (process.hrtime.bigint() < deadline) {
        const t0 = process.hrtime.bigint();
        const batch = await castBatch();
        const t1 = process.hrtime.bigint();
        const response = await service.submitVotes(
          create(SubmitVotesRequestSchema, {
            batchId: crypto.getRandomValues(new Uint8Array(16)),
            votes: batch.map((r) => r.signedVote),
            countersigningKeys: [countersigner.certificate],
          }),
          context,
        );
        const t2 = process.hrtime.bigint();
        const refused = (response.results ?? []).find(
          (r) => r.disposition !== VoteDisposition.ACCEPTED,
        );
        if (refused !== undefined)
          throw new Error(`a bench vote was not accepted (reason ${String(refused.rejectReason)})`);
        castNs += t1 - t0;
        intakeNs += t2 - t1;
        count += batch.length;
      }
      const elapsed = Number(process.hrtime.bigint() - started);
      return {
        count,
        perSecond: (count * 1e9) / elapsed,
        castUs: Number(castNs) / count / 1000,
        intakeUs: Number(intakeNs) / count / 1000,
      };
    };
    progress("voting: cast path (castVote + intake + dynalite)");
    const full = await run(realVotes, seconds * 1000);
    let storeUs: number | undefined;
    if (breakdown) {
      progress("voting: cast path without the store (breakdown)");
      const noStoreRun = await run(noStore, (seconds * 1000) / 2);
      storeUs = full.intakeUs - noStoreRun.intakeUs;
    }
    return {
      votesPerSecond: full.perSecond,
      votes: full.count,
      castUsPerVote: full.castUs,
      intakeUsPerVote: full.intakeUs,
      storeUsPerVote: storeUs,
    };
  } finally {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(blobDirectory, { recursive: true, force: true });
  }
}
