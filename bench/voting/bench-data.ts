/**
 * The bench's million votes: generated once with worker threads and cached under
 * `.local/bench/<BENCH_DATA_VERSION>-<count>/` (the votes as a binary PublishedVoteList without a
 * head, the org key, the enclave key and the dev NSM's state, so the cached votes stay verifiable
 * across runs). `VETTID_BENCH_VOTES` asks for fewer (or more) votes for quick runs.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { create, toBinary } from "@bufbuild/protobuf";
import { ed25519 } from "@noble/curves/ed25519.js";
import {
  type AttestationTrustStore,
  verifyAttestation,
} from "../../clients/sdk/attestation/index.js";
import {
  decodePublishedVoteBinary,
  splitVoteListBinary,
  type TrustedKeys,
  trustKeys,
  verifySignedProposal,
} from "../../clients/sdk/voting/index.js";
import { createDevNsm } from "../../enclave/nsm/index.js";
import { createEnclaveVoteCountersigner } from "../../enclave/voting/index.js";
import { PcrSetSchema } from "../../gen/vettid/attestation/v1/pcr_pb.js";
import { QuorumType, type SignedProposal } from "../../gen/vettid/voting/v1/proposal_pb.js";
import { PublishedVoteListSchema } from "../../gen/vettid/voting/v1/vote_list_pb.js";
import type { EnclaveVoteKeyCertificate } from "../../gen/vettid/voting/v1/vote_pb.js";
import { createLocalP256Signer, type LocalP256Signer } from "../../server/signing/index.js";
import type { AcceptedVote } from "../../server/voting/index.js";
import { signProposal } from "../../server/voting/index.js";
import { progress } from "../lib/report.js";
import type { GenerateRequest, GenerateWorkerData } from "./generate-worker.js";

/** Version of the cached data's format: change it whenever the generator or a format changes. */
export const BENCH_DATA_VERSION = "voting-bench-v2";
/** Votes in the list by default: the goal is stated for a million. */
export const DEFAULT_BENCH_VOTES = 1_000_000;
/** Environment variable giving another count, e.g. `VETTID_BENCH_VOTES=20000` for a quick run. */
export const BENCH_VOTES_ENV = "VETTID_BENCH_VOTES";

const HOUR = 3_600_000;
const OPENS = Date.UTC(2026, 5, 1, 8, 0, 0);
/** Members per message to a generator worker. */
const GENERATE_CHUNK = 5000;

/** The cached votes and the keys that make them verifiable. */
export interface BenchData {
  readonly count: number;
  readonly directory: string;
  readonly orgSigner: LocalP256Signer;
  readonly orgKeys: TrustedKeys;
  readonly attestation: AttestationTrustStore;
  readonly signedProposal: SignedProposal;
  readonly certificate: EnclaveVoteKeyCertificate;
  /** Seconds spent generating (0 when the cache was used). */
  readonly generatedSeconds: number;
  /** Reads the votes (about 5 s a million). */
  loadVotes(): Promise<AcceptedVote[]>;
}

/** The requested vote count: `VETTID_BENCH_VOTES` or {@link DEFAULT_BENCH_VOTES}. */
export function benchVoteCount(): number {
  const text = process.env[BENCH_VOTES_ENV];
  if (text === undefined || text === "") return DEFAULT_BENCH_VOTES;
  const count = Number(text);
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new RangeError(
      `${BENCH_VOTES_ENV} must be a positive whole number, got ${JSON.stringify(text)}`,
    );
  }
  return count;
}

interface Meta {
  readonly version: string;
  readonly count: number;
  readonly orgPkcs8: string;
}

/** Loads the cached data for `count` votes, or generates and caches it. */
export async function benchData(
  count: number,
  root = join(process.cwd(), ".local", "bench"),
): Promise<BenchData> {
  const directory = join(root, `${BENCH_DATA_VERSION}-${count}`);
  const votesPath = join(directory, "votes.binpb");
  const nsm = createDevNsm({ stateDir: join(directory, "nsm") });
  let meta: Meta | undefined;
  try {
    meta = JSON.parse(await readFile(join(directory, "meta.json"), "utf8")) as Meta;
    if (meta.version !== BENCH_DATA_VERSION || meta.count !== count) meta = undefined;
  } catch {
    meta = undefined;
  }
  let generatedSeconds = 0;
  let orgSigner: LocalP256Signer;
  if (meta === undefined) {
    await rm(directory, { recursive: true, force: true });
    await mkdir(directory, { recursive: true });
    orgSigner = createLocalP256Signer();
    const started = process.hrtime.bigint();
    await generate(count, orgSigner, createDevNsm({ stateDir: join(directory, "nsm") }), votesPath);
    generatedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    meta = {
      version: BENCH_DATA_VERSION,
      count,
      orgPkcs8: Buffer.from(orgSigner.exportPkcs8()).toString("base64"),
    };
    await writeFile(join(directory, "meta.json"), JSON.stringify(meta));
  } else {
    orgSigner = createLocalP256Signer({
      pkcs8: new Uint8Array(Buffer.from(meta.orgPkcs8, "base64")),
    });
    progress(`voting: using the cached ${count.toLocaleString("en-US")} votes in ${directory}`);
  }
  const bytes = new Uint8Array(await readFile(votesPath));
  const split = splitVoteListBinary(bytes);
  if (!split.ok) throw new Error(`cached votes unreadable (${split.problem}); delete ${directory}`);
  const header = split.list.header;
  const certificate = header.countersigningKeys[0];
  if (header.signedProposal === undefined || certificate === undefined)
    throw new Error("cached votes lack their proposal");
  return {
    count,
    directory,
    orgSigner,
    orgKeys: trustKeys([(await orgSigner.describe()).spki]),
    attestation: await trustFor(certificate, (await nsm.rootCertificate()).fingerprintSha256),
    signedProposal: header.signedProposal,
    certificate,
    generatedSeconds,
    async loadVotes() {
      const votes: AcceptedVote[] = new Array(split.list.count);
      for (let i = 0; i < split.list.count; i++) {
        const entry = decodePublishedVoteBinary(
          bytes.subarray(split.list.spans[2 * i], split.list.spans[2 * i + 1]),
        );
        if (entry.signedVote === undefined) throw new Error("cached vote without its signed vote");
        votes[i] = {
          voteHash: entry.voteHash,
          choice: entry.choice,
          votingPublicKey: entry.votingPublicKey,
          signedVote: entry.signedVote,
        };
      }
      return votes;
    },
  };
}

/** Trusts the dev root and exactly the build that certified the cached enclave key. */
async function trustFor(
  certificate: EnclaveVoteKeyCertificate,
  devRootSha256: string,
): Promise<AttestationTrustStore> {
  const inspected = verifyAttestation(certificate.attestationDocument, {
    at: Number(certificate.attestedAtMs),
    devRootSha256,
    allowDevRoot: true,
    allowAnyPcrs: true,
  });
  if (!inspected.valid)
    throw new Error(`cached enclave certificate does not verify: ${inspected.detail}`);
  const pcrs = Object.fromEntries(
    Object.entries(inspected.document.pcrs).filter(([index]) => Number(index) <= 2),
  );
  return {
    devRootSha256,
    allowDevRoot: true,
    pcrSets: [create(PcrSetSchema, { id: "bench-build", pcrs })],
  };
}

async function generate(
  count: number,
  orgSigner: LocalP256Signer,
  nsm: ReturnType<typeof createDevNsm>,
  path: string,
): Promise<void> {
  const proposal = await signProposal(orgSigner, {
    $typeName: "vettid.voting.v1.ProposalPayload",
    proposalId: crypto.randomUUID(),
    proposalNumber: "P0001000",
    title: "A million votes",
    text: "The benchmark's proposal.",
    category: "bench",
    choices: [1, 2, 3],
    opensAtMs: BigInt(OPENS),
    closesAtMs: BigInt(OPENS + 7 * 24 * HOUR),
    quorumType: QuorumType.MIN_TURNOUT_BASIS_POINTS,
    quorumValue: 2500n,
    createdAtMs: BigInt(OPENS - HOUR),
  });
  const verified = verifySignedProposal(proposal, trustKeys([(await orgSigner.describe()).spki]));
  if (!verified.ok) throw new Error(verified.problem);
  const enclaveSeed = ed25519.utils.randomSecretKey();
  const countersigner = await createEnclaveVoteCountersigner(nsm, enclaveSeed);
  const data: GenerateWorkerData = {
    proposalId: verified.payload.proposalId,
    proposalHash: verified.proposalHash,
    castAtMs: OPENS + 2 * HOUR,
    enclaveSeed,
    enclaveKeyId: countersigner.keyId,
  };
  const workerCount = availableParallelism();
  progress(
    `voting: generating ${count.toLocaleString("en-US")} signed votes with ${workerCount} worker threads (cached afterwards)`,
  );
  const url = new URL("./generate-worker-bootstrap.mjs", import.meta.url);
  const workers = Array.from({ length: workerCount }, () => new Worker(url, { workerData: data }));
  const chunks: Uint8Array[] = [];
  const total = Math.ceil(count / GENERATE_CHUNK);
  let next = 0;
  let done = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const dispatch = (worker: Worker) => {
        if (next >= total) return;
        const request: GenerateRequest = {
          start: next * GENERATE_CHUNK,
          end: Math.min(count, (next + 1) * GENERATE_CHUNK),
        };
        const chunk = next++;
        worker.once("message", (framed: Uint8Array) => {
          chunks[chunk] = framed;
          done++;
          if (done % 20 === 0 || done === total)
            progress(
              `voting: generated ${Math.min(count, done * GENERATE_CHUNK).toLocaleString("en-US")} votes`,
            );
          if (done === total) resolve();
          else dispatch(worker);
        });
        worker.postMessage(request);
      };
      for (const worker of workers) {
        worker.on("error", reject);
        dispatch(worker);
      }
    });
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  const header = toBinary(
    PublishedVoteListSchema,
    create(PublishedVoteListSchema, {
      proposalId: verified.payload.proposalId,
      signedProposal: proposal,
      countersigningKeys: [countersigner.certificate],
    }),
  );
  await writeFile(path, Buffer.concat([header, ...chunks]));
}
