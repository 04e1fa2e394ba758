import { create, fromBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import {
  type PublishedVote,
  type PublishedVoteList,
  PublishedVoteListSchema,
  PublishedVoteSchema,
} from "../../../gen/vettid/voting/v1/vote_list_pb.js";
import type { SplitResult } from "./vote-list-json.js";

/** Field number of PublishedVoteList.entries. */
const ENTRIES_FIELD = 4;

/**
 * Splits a binary PublishedVoteList (the file at ProposalResults.vote_list_url) without decoding
 * every entry: the other fields are decoded strictly, and the byte span of each entry is
 * returned for {@link decodePublishedVoteBinary}. Never throws.
 */
export function splitVoteListBinary(bytes: Uint8Array): SplitResult {
  const reader = new BinaryReader(bytes);
  const spans: number[] = [];
  const headerParts: Uint8Array[] = [];
  try {
    while (reader.pos < reader.len) {
      const start = reader.pos;
      const [field, wireType] = reader.tag();
      if (field === ENTRIES_FIELD && wireType === WireType.LengthDelimited) {
        const length = reader.uint32();
        if (reader.pos + length > reader.len) throw new Error("an entry runs past the end");
        spans.push(reader.pos, reader.pos + length);
        reader.pos += length;
      } else {
        reader.skip(wireType, field);
        headerParts.push(bytes.subarray(start, reader.pos));
      }
    }
  } catch (error) {
    return {
      ok: false,
      problem: `binary list: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  let length = 0;
  for (const part of headerParts) length += part.length;
  const headerBytes = new Uint8Array(length);
  let offset = 0;
  for (const part of headerParts) {
    headerBytes.set(part, offset);
    offset += part.length;
  }
  let header: PublishedVoteList;
  try {
    header = fromBinary(PublishedVoteListSchema, headerBytes, { readUnknownFields: false });
  } catch (error) {
    return {
      ok: false,
      problem: `list header: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  return { ok: true, list: { header, spans: Float64Array.from(spans), count: spans.length / 2 } };
}

/** Decodes one entry's bytes. Throws Error when they are not a PublishedVote. */
export function decodePublishedVoteBinary(bytes: Uint8Array): PublishedVote {
  return fromBinary(PublishedVoteSchema, bytes, { readUnknownFields: false });
}

/** Decodes a whole binary list (small lists). */
export function decodeVoteListBinary(bytes: Uint8Array): PublishedVoteList {
  const split = splitVoteListBinary(bytes);
  if (!split.ok) throw new Error(split.problem);
  const entries: PublishedVote[] = [];
  for (let i = 0; i < split.list.count; i++) {
    entries.push(
      decodePublishedVoteBinary(
        bytes.subarray(split.list.spans[2 * i], split.list.spans[2 * i + 1]),
      ),
    );
  }
  return create(PublishedVoteListSchema, { ...split.list.header, entries });
}
