/**
 * Worker thread of {@link auditVoteListParallel}: checks chunks of a vote list's entries (parse,
 * vote hash, payload, both signatures) and sends back packed results. Node only.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createEd25519KeyVerifier, verifyEd25519Node } from "./ed25519-node.js";
import { leafHash, MERKLE_HASH_BYTES } from "./merkle.js";
import { nodeSha256 } from "./sha256-node.js";
import { checkPublishedVote } from "./signed-vote.js";
import { type EntryCheckData, entryCheckOptions } from "./vote-list-audit.js";
import { decodePublishedVoteBinary } from "./vote-list-binary.js";
import { parsePublishedVoteJson } from "./vote-list-json.js";

/** What the worker is started with. */
export interface AuditWorkerData {
  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
  readonly byteLength: number;
  readonly format: "json" | "binary";
  readonly entryData: EntryCheckData;
}

/** One chunk to check: entries [start, start + spans.length / 2). */
export interface AuditChunk {
  readonly chunk: number;
  readonly start: number;
  readonly spans: Float64Array;
}

/** A checked chunk, packed: 32 bytes per entry in each hash array, one byte per entry in `choices`. */
export interface AuditChunkResult {
  readonly chunk: number;
  readonly start: number;
  readonly count: number;
  /** The listed vote hashes (zeros where `listed` is not 32 bytes). */
  readonly voteHashes: Uint8Array;
  /** SHA-256(0x00 || listed vote hash). */
  readonly leafHashes: Uint8Array;
  readonly votingKeys: Uint8Array;
  /** The signed choice of valid entries; 0 for entries with a problem. */
  readonly choices: Uint8Array;
  /** Entries whose listed vote hash is not 32 bytes: their index and bytes. */
  readonly oddHashes: [number, Uint8Array][];
  readonly problems: [number, string][];
}

const data = workerData as AuditWorkerData;
const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
const options = entryCheckOptions(data.entryData, {
  verifyEd25519: verifyEd25519Node,
  createKeyVerifier: createEd25519KeyVerifier,
  hash: nodeSha256,
});

parentPort?.on("message", (message: AuditChunk) => {
  const count = message.spans.length / 2;
  const result: AuditChunkResult = {
    chunk: message.chunk,
    start: message.start,
    count,
    voteHashes: new Uint8Array(count * MERKLE_HASH_BYTES),
    leafHashes: new Uint8Array(count * MERKLE_HASH_BYTES),
    votingKeys: new Uint8Array(count * MERKLE_HASH_BYTES),
    choices: new Uint8Array(count),
    oddHashes: [],
    problems: [],
  };
  for (let i = 0; i < count; i++) {
    const from = message.spans[2 * i] as number;
    const to = message.spans[2 * i + 1] as number;
    const index = message.start + i;
    let entry: ReturnType<typeof decodePublishedVoteBinary>;
    try {
      entry =
        data.format === "json"
          ? parsePublishedVoteJson(buffer.toString("utf8", from, to))
          : decodePublishedVoteBinary(bytes.slice(from, to));
    } catch (error) {
      result.problems.push([
        index,
        `does not parse: ${error instanceof Error ? error.message : String(error)}`,
      ]);
      result.oddHashes.push([index, new Uint8Array(0)]);
      result.leafHashes.set(leafHash(new Uint8Array(0), nodeSha256), i * MERKLE_HASH_BYTES);
      continue;
    }
    if (entry.voteHash.length === MERKLE_HASH_BYTES)
      result.voteHashes.set(entry.voteHash, i * MERKLE_HASH_BYTES);
    else result.oddHashes.push([index, entry.voteHash]);
    result.leafHashes.set(leafHash(entry.voteHash, nodeSha256), i * MERKLE_HASH_BYTES);
    const checked = checkPublishedVote(entry, data.entryData.proposal, options);
    if (!checked.ok) {
      result.problems.push([index, checked.problem]);
      continue;
    }
    result.choices[i] = checked.choice;
    result.votingKeys.set(checked.votingPublicKey, i * MERKLE_HASH_BYTES);
  }
  parentPort?.postMessage(result, [
    result.voteHashes.buffer as ArrayBuffer,
    result.leafHashes.buffer as ArrayBuffer,
    result.votingKeys.buffer as ArrayBuffer,
    result.choices.buffer as ArrayBuffer,
  ]);
});
