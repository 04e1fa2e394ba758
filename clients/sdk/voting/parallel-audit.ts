import { open } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Choice } from "../../../gen/vettid/voting/v1/proposal_pb.js";
import type { AttestationTrustStore } from "../attestation/index.js";
import type { AuditChunk, AuditChunkResult, AuditWorkerData } from "./audit-worker.js";
import { createEd25519KeyVerifier, verifyEd25519Node } from "./ed25519-node.js";
import { attestedEnclaveKeys } from "./enclave-key-certificate.js";
import { MERKLE_HASH_BYTES } from "./merkle.js";
import { nodeSha256 } from "./sha256-node.js";
import {
  createVoteListAuditor,
  type VoteListAuditOptions,
  type VoteListAuditReport,
} from "./vote-list-audit.js";
import { splitVoteListBinary } from "./vote-list-binary.js";
import { type SplitResult, splitVoteListJson } from "./vote-list-json.js";

/**
 * Entries per chunk a worker checks at a time: 2000, about 0.3 s of work, small enough to keep
 * every worker busy to the end and the progress moving, large enough that messaging costs nothing.
 */
export const DEFAULT_AUDIT_CHUNK_ENTRIES = 2000;

/** Options of {@link auditVoteListParallel}. */
export interface ParallelAuditOptions
  extends Pick<VoteListAuditOptions, "orgKeys" | "maxProblems"> {
  /** Which enclave builds are trusted: every certificate's attestation is verified against it. */
  readonly attestation: AttestationTrustStore;
  /** Worker threads. Default: `os.availableParallelism()`. */
  readonly workers?: number;
  /** Default {@link DEFAULT_AUDIT_CHUNK_ENTRIES}. */
  readonly chunkEntries?: number;
  /** Called after each chunk with the number of entries checked so far and the total. */
  readonly onProgress?: (checked: number, total: number) => void;
}

/** A report of {@link auditVoteListParallel}: the audit's, plus the file's format. */
export interface ParallelAuditReport extends VoteListAuditReport {
  readonly format: "json" | "binary";
}

/** Reads a file into memory that worker threads share (no copy per worker). */
export async function readFileShared(path: string): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const bytes = new Uint8Array(new SharedArrayBuffer(size));
    let offset = 0;
    while (offset < size) {
      const { bytesRead } = await handle.read(
        bytes,
        offset,
        Math.min(size - offset, 1 << 26),
        offset,
      );
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    return bytes.subarray(0, offset);
  } finally {
    await handle.close();
  }
}

/**
 * Audits a published vote list file (JSON, or binary protobuf) like `auditVoteList`, with every
 * entry check (parse, vote hash, both Ed25519 signatures under the strict rules) spread over
 * worker threads, while this thread checks the header, the order, uniqueness, the recount and the
 * Merkle root. Memory: the file once (shared with the workers), plus about 150 bytes per entry.
 * Never throws for a bad list; the report names every problem (up to `maxProblems`).
 */
export async function auditVoteListParallel(
  file: Uint8Array,
  options: ParallelAuditOptions,
): Promise<ParallelAuditReport> {
  const shared = toShared(file);
  const format = firstNonSpace(shared) === 0x7b ? "json" : "binary";
  const split: SplitResult =
    format === "json" ? splitVoteListJson(shared) : splitVoteListBinary(shared);
  const auditor = createVoteListAuditor(
    split.ok ? split.list.header : ({ entries: [], countersigningKeys: [], counts: [] } as never),
    {
      orgKeys: options.orgKeys,
      enclaveKeys: attestedEnclaveKeys(options.attestation),
      verifyEd25519: verifyEd25519Node,
      createKeyVerifier: createEd25519KeyVerifier,
      hash: nodeSha256,
      ...(options.maxProblems === undefined ? {} : { maxProblems: options.maxProblems }),
    },
  );
  if (!split.ok) {
    auditor.problem(`the file is not a vote list: ${split.problem}`);
    return { ...auditor.finish(), format };
  }
  const { spans, count } = split.list;
  const data = auditor.entryData;
  if (data === undefined) {
    auditor.problem(`${count} entries not checked: the proposal did not verify`);
    return { ...auditor.finish(), format };
  }
  const chunkEntries = options.chunkEntries ?? DEFAULT_AUDIT_CHUNK_ENTRIES;
  const workerCount = Math.max(
    1,
    Math.min(options.workers ?? availableParallelism(), Math.ceil(count / chunkEntries) || 1),
  );
  const workerData: AuditWorkerData = {
    buffer: shared.buffer as SharedArrayBuffer,
    byteOffset: shared.byteOffset,
    byteLength: shared.byteLength,
    format,
    entryData: data,
  };
  const url = import.meta.url.endsWith(".ts")
    ? new URL("./audit-worker-bootstrap.mjs", import.meta.url)
    : new URL("./audit-worker.js", import.meta.url);
  const workers = Array.from({ length: workerCount }, () => new Worker(url, { workerData }));
  const chunks = Math.ceil(count / chunkEntries);
  let nextChunk = 0;
  let nextToMerge = 0;
  let checked = 0;
  const ready = new Map<number, AuditChunkResult>();
  try {
    await new Promise<void>((resolve, reject) => {
      if (chunks === 0) {
        resolve();
        return;
      }
      const dispatch = (worker: Worker) => {
        if (nextChunk >= chunks) return;
        const start = nextChunk * chunkEntries;
        const end = Math.min(count, start + chunkEntries);
        const message: AuditChunk = {
          chunk: nextChunk,
          start,
          spans: spans.slice(2 * start, 2 * end),
        };
        nextChunk++;
        worker.postMessage(message, [message.spans.buffer as ArrayBuffer]);
      };
      for (const worker of workers) {
        worker.on("error", reject);
        worker.on("exit", (code) => {
          if (code !== 0 && nextToMerge < chunks)
            reject(new Error(`an audit worker stopped with code ${code}`));
        });
        worker.on("message", (result: AuditChunkResult) => {
          dispatch(worker);
          ready.set(result.chunk, result);
          for (
            let merged = ready.get(nextToMerge);
            merged !== undefined;
            merged = ready.get(nextToMerge)
          ) {
            ready.delete(nextToMerge);
            merge(merged);
            checked += merged.count;
            nextToMerge++;
          }
          options.onProgress?.(checked, count);
          if (nextToMerge === chunks) resolve();
        });
        dispatch(worker);
        dispatch(worker);
      }
    });
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  return { ...auditor.finish(), format };

  function merge(result: AuditChunkResult): void {
    const problems = new Map(result.problems);
    const odd = new Map(result.oddHashes);
    for (let i = 0; i < result.count; i++) {
      const index = result.start + i;
      const at = i * MERKLE_HASH_BYTES;
      const listed = odd.get(index) ?? result.voteHashes.subarray(at, at + MERKLE_HASH_BYTES);
      const leaf = result.leafHashes.subarray(at, at + MERKLE_HASH_BYTES);
      const problem = problems.get(index);
      auditor.addEntry(
        index,
        listed,
        problem === undefined
          ? {
              choice: result.choices[i] as Choice,
              votingPublicKey: result.votingKeys.subarray(at, at + MERKLE_HASH_BYTES),
            }
          : { problem },
        leaf,
      );
    }
  }
}

function toShared(file: Uint8Array): Uint8Array {
  if (file.buffer instanceof SharedArrayBuffer) return file;
  const shared = new Uint8Array(new SharedArrayBuffer(file.length));
  shared.set(file);
  return shared;
}

function firstNonSpace(bytes: Uint8Array): number | undefined {
  for (const byte of bytes.subarray(0, 1024)) {
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return byte;
  }
  return undefined;
}
