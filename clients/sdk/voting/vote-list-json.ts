import { create, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { Choice } from "../../../gen/vettid/voting/v1/proposal_pb.js";
import {
  type PublishedVote,
  type PublishedVoteList,
  PublishedVoteListSchema,
  PublishedVoteSchema,
} from "../../../gen/vettid/voting/v1/vote_list_pb.js";
import { SignedVoteSchema } from "../../../gen/vettid/voting/v1/vote_pb.js";
import { fromBase64, toBase64 } from "./bytes.js";

/**
 * The JSON form of a published vote list: the protobuf JSON mapping of PublishedVoteList
 * (vote_list.proto) with the schema's field names (`proposal_id`, `signed_head`, `entries`,
 * `vote_hash`, …), bytes as base64 and enums by name, written with one entry per line so that
 * lists of millions of votes can be produced and read in pieces. Any protobuf JSON reader reads
 * it; {@link splitVoteListJson} reads any valid JSON layout, not only this one.
 */

const encoder = new TextEncoder();

/** The entry as protobuf JSON (`toJsonString(PublishedVoteSchema, entry, { useProtoFieldName })`), fast. */
export function publishedVoteToJson(entry: PublishedVote): string {
  const parts: string[] = [];
  if (entry.voteHash.length > 0) parts.push(`"vote_hash":"${toBase64(entry.voteHash)}"`);
  if (entry.choice !== Choice.UNSPECIFIED) parts.push(`"choice":${choiceJson(entry.choice)}`);
  if (entry.votingPublicKey.length > 0) {
    parts.push(`"voting_public_key":"${toBase64(entry.votingPublicKey)}"`);
  }
  const vote = entry.signedVote;
  if (vote !== undefined) {
    const inner: string[] = [];
    if (vote.payload.length > 0) inner.push(`"payload":"${toBase64(vote.payload)}"`);
    if (vote.votingSignature.length > 0) {
      inner.push(`"voting_signature":"${toBase64(vote.votingSignature)}"`);
    }
    if (vote.enclaveCountersignature.length > 0) {
      inner.push(`"enclave_countersignature":"${toBase64(vote.enclaveCountersignature)}"`);
    }
    if (vote.enclaveKeyId.length > 0)
      inner.push(`"enclave_key_id":${JSON.stringify(vote.enclaveKeyId)}`);
    parts.push(`"signed_vote":{${inner.join(",")}}`);
  }
  return `{${parts.join(",")}}`;
}

function choiceJson(choice: Choice): string {
  const name = Choice[choice];
  return name === undefined ? String(choice) : `"CHOICE_${name}"`;
}

/**
 * Encodes a list as JSON bytes: the header fields as protobuf JSON, then `"entries"` with one
 * entry per line. Equal, as JSON, to `toJsonString(PublishedVoteListSchema, list,
 * { useProtoFieldName: true })`; built in pieces so a million entries need no giant string.
 */
export function encodeVoteListJson(list: PublishedVoteList): Uint8Array {
  const header = toJsonString(
    PublishedVoteListSchema,
    create(PublishedVoteListSchema, { ...list, entries: [] }),
    { useProtoFieldName: true, prettySpaces: 1 },
  );
  const close = header.lastIndexOf("}");
  const chunks: Uint8Array[] = [
    encoder.encode(`${header.slice(0, close).trimEnd()},\n "entries": [\n`),
  ];
  const batch: string[] = [];
  for (const [index, entry] of list.entries.entries()) {
    batch.push(publishedVoteToJson(entry));
    if (batch.length === 4096 || index === list.entries.length - 1) {
      const last = index === list.entries.length - 1;
      chunks.push(encoder.encode(`${batch.join(",\n")}${last ? "\n" : ",\n"}`));
      batch.length = 0;
    }
  }
  chunks.push(encoder.encode(" ]\n}\n"));
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** A vote list read in pieces: the header (every field but the entries) and where each entry is. */
export interface SplitVoteList {
  /** The list's fields with `entries` empty. */
  readonly header: PublishedVoteList;
  /** Entry i spans bytes [spans[2i], spans[2i+1]) of the input. */
  readonly spans: Float64Array;
  /** Number of entries. */
  readonly count: number;
}

/** The outcome of splitting a list file. */
export type SplitResult =
  | { readonly ok: true; readonly list: SplitVoteList }
  | { readonly ok: false; readonly problem: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Splits a JSON vote list without parsing it whole (V8 strings stop at about 512 MiB; a list of a
 * million votes is larger): one scan finds the top-level `entries` array and each element's
 * bytes; the rest is parsed as protobuf JSON (unknown fields refused). Entries are parsed later,
 * anywhere, with {@link parsePublishedVoteJson}. Never throws.
 */
export function splitVoteListJson(bytes: Uint8Array): SplitResult {
  const spans: number[] = [];
  let depth = 0;
  let inString = false;
  let stringStart = 0;
  let lastKey: string | undefined;
  let arrayStart = -1;
  let arrayEnd = -1;
  let elementStart = -1;
  // Inside the entries array (depth 2 between elements): "value" expects an element, "comma" a separator.
  let expect: "value" | "comma" | "value-or-end" = "value-or-end";
  for (let i = 0; i < bytes.length; i++) {
    if (inString) {
      // Jump to the next quote (native search: most of a list is base64 inside strings), then
      // skip it if an odd number of backslashes escapes it.
      const quote = bytes.indexOf(QUOTE, i);
      if (quote < 0) return { ok: false, problem: "the JSON ends inside a string" };
      let backslashes = 0;
      while (quote - backslashes - 1 > stringStart && bytes[quote - backslashes - 1] === BACKSLASH)
        backslashes++;
      i = quote;
      if (backslashes % 2 === 1) continue;
      inString = false;
      if (depth === 1) {
        try {
          lastKey = JSON.parse(
            new TextDecoder().decode(bytes.subarray(stringStart, i + 1)),
          ) as string;
        } catch {
          return { ok: false, problem: `malformed string at byte ${stringStart}` };
        }
      }
      continue;
    }
    const c = bytes[i] as number;
    if (c === QUOTE) {
      if (arrayStart >= 0 && arrayEnd < 0 && depth === 2) {
        return { ok: false, problem: `entries element at byte ${i} is not an object` };
      }
      inString = true;
      stringStart = i;
      continue;
    }
    const inEntries = arrayStart >= 0 && arrayEnd < 0;
    if (c === 0x7b || c === 0x5b) {
      // { or [
      if (inEntries && depth === 2) {
        if (c !== 0x7b || expect === "comma") {
          return {
            ok: false,
            problem: `entries element at byte ${i} is not an object after a comma`,
          };
        }
        elementStart = i;
      }
      if (depth === 1 && c === 0x5b && lastKey === "entries") {
        if (arrayStart >= 0) return { ok: false, problem: "the list has two entries arrays" };
        arrayStart = i;
        expect = "value-or-end";
      }
      depth++;
      continue;
    }
    if (c === 0x7d || c === 0x5d) {
      // } or ]
      depth--;
      if (depth < 0) return { ok: false, problem: `unbalanced bracket at byte ${i}` };
      if (inEntries && depth === 2 && c === 0x7d) {
        spans.push(elementStart, i + 1);
        expect = "comma";
      } else if (inEntries && depth === 1 && c === 0x5d) {
        if (expect === "value")
          return { ok: false, problem: `trailing comma in entries at byte ${i}` };
        arrayEnd = i;
      }
      continue;
    }
    if (inEntries && depth === 2) {
      if (c === 0x2c) {
        if (expect !== "comma")
          return { ok: false, problem: `unexpected comma in entries at byte ${i}` };
        expect = "value";
      } else if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
        return { ok: false, problem: `entries element at byte ${i} is not an object` };
      }
    }
  }
  if (inString || depth !== 0)
    return { ok: false, problem: "the JSON ends inside a string or an object" };
  const headerText =
    arrayStart < 0
      ? new TextDecoder().decode(bytes)
      : new TextDecoder().decode(bytes.subarray(0, arrayStart)) +
        "[]" +
        new TextDecoder().decode(bytes.subarray(arrayEnd + 1));
  let header: PublishedVoteList;
  try {
    header = fromJsonString(PublishedVoteListSchema, headerText);
  } catch (error) {
    return {
      ok: false,
      problem: `list header: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  return { ok: true, list: { header, spans: Float64Array.from(spans), count: spans.length / 2 } };
}

const ENTRY_KEYS: Record<string, string> = {
  vote_hash: "voteHash",
  voteHash: "voteHash",
  choice: "choice",
  voting_public_key: "votingPublicKey",
  votingPublicKey: "votingPublicKey",
  signed_vote: "signedVote",
  signedVote: "signedVote",
};
const VOTE_KEYS: Record<string, string> = {
  payload: "payload",
  voting_signature: "votingSignature",
  votingSignature: "votingSignature",
  enclave_countersignature: "enclaveCountersignature",
  enclaveCountersignature: "enclaveCountersignature",
  enclave_key_id: "enclaveKeyId",
  enclaveKeyId: "enclaveKeyId",
};

/**
 * Parses one entry's protobuf JSON as PublishedVote, as `fromJsonString(PublishedVoteSchema, …)`
 * would (either field name form; base64 standard or URL-safe; enum by name or number; null as the
 * default; unknown or repeated fields refused), about ten times faster. Throws Error naming the
 * field that is wrong.
 */
export function parsePublishedVoteJson(text: string): PublishedVote {
  const value: unknown = JSON.parse(text);
  const fields = objectFields(value, "entry", ENTRY_KEYS);
  const vote = fields.signedVote;
  let signedVote: ReturnType<typeof create<typeof SignedVoteSchema>> | undefined;
  if (vote !== undefined && vote !== null) {
    const inner = objectFields(vote, "signed_vote", VOTE_KEYS);
    signedVote = create(SignedVoteSchema, {
      payload: bytesField(inner.payload, "signed_vote.payload"),
      votingSignature: bytesField(inner.votingSignature, "signed_vote.voting_signature"),
      enclaveCountersignature: bytesField(
        inner.enclaveCountersignature,
        "signed_vote.enclave_countersignature",
      ),
      enclaveKeyId: stringField(inner.enclaveKeyId, "signed_vote.enclave_key_id"),
    });
  }
  return create(PublishedVoteSchema, {
    voteHash: bytesField(fields.voteHash, "vote_hash"),
    choice: choiceField(fields.choice),
    votingPublicKey: bytesField(fields.votingPublicKey, "voting_public_key"),
    ...(signedVote === undefined ? {} : { signedVote }),
  });
}

/** Parses a whole JSON list (small lists; large ones go through {@link splitVoteListJson}). */
export function decodeVoteListJson(bytes: Uint8Array): PublishedVoteList {
  const split = splitVoteListJson(bytes);
  if (!split.ok) throw new Error(split.problem);
  const entries: PublishedVote[] = [];
  const decoder = new TextDecoder();
  for (let i = 0; i < split.list.count; i++) {
    const text = decoder.decode(
      bytes.subarray(split.list.spans[2 * i], split.list.spans[2 * i + 1]),
    );
    try {
      entries.push(parsePublishedVoteJson(text));
    } catch (error) {
      throw new Error(`entry ${i}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return create(PublishedVoteListSchema, { ...split.list.header, entries });
}

function objectFields(
  value: unknown,
  what: string,
  keys: Record<string, string>,
): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`${what} is not a JSON object`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    const name = keys[key];
    if (name === undefined) throw new Error(`${what} has an unknown field ${JSON.stringify(key)}`);
    if (name in out) throw new Error(`${what} has the field ${JSON.stringify(key)} twice`);
    out[name] = field;
  }
  return out;
}

function bytesField(value: unknown, what: string): Uint8Array {
  if (value === undefined || value === null) return new Uint8Array(0);
  const bytes = typeof value === "string" ? fromBase64(value) : undefined;
  if (bytes === undefined) throw new Error(`${what} is not base64`);
  return bytes;
}

function stringField(value: unknown, what: string): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw new Error(`${what} is not a string`);
  return value;
}

function choiceField(value: unknown): Choice {
  if (value === undefined || value === null) return Choice.UNSPECIFIED;
  if (
    typeof value === "number" &&
    Number.isInteger(value) &&
    value >= -(2 ** 31) &&
    value < 2 ** 31
  ) {
    return value as Choice;
  }
  if (typeof value === "string" && value.startsWith("CHOICE_")) {
    const number = (Choice as unknown as Record<string, number>)[value.slice("CHOICE_".length)];
    if (number !== undefined) return number as Choice;
  }
  throw new Error("choice is not a Choice name or number");
}
