import {
  create,
  fromJson,
  type JsonValue,
  toBinary,
  toJson,
  toJsonString,
} from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { MerkleTreeAlgorithm } from "../../../gen/vettid/voting/v1/merkle_pb.js";
import { Choice } from "../../../gen/vettid/voting/v1/proposal_pb.js";
import {
  type PublishedVote,
  PublishedVoteListSchema,
  PublishedVoteSchema,
} from "../../../gen/vettid/voting/v1/vote_list_pb.js";
import { SignedVoteSchema } from "../../../gen/vettid/voting/v1/vote_pb.js";
import {
  decodeVoteListBinary,
  encodePublishedVoteBinary,
  encodeVoteListBinary,
  splitVoteListBinary,
} from "./vote-list-binary.js";
import {
  decodeVoteListJson,
  encodeVoteListJson,
  parsePublishedVoteJson,
  publishedVoteToJson,
  splitVoteListJson,
} from "./vote-list-json.js";

const random = (length: number) => crypto.getRandomValues(new Uint8Array(length));

function entry(overrides: Partial<PublishedVote> = {}): PublishedVote {
  return create(PublishedVoteSchema, {
    voteHash: random(32),
    choice: Choice.NO,
    votingPublicKey: random(32),
    signedVote: create(SignedVoteSchema, {
      payload: random(150 + Math.floor(Math.random() * 200)),
      votingSignature: random(64),
      enclaveCountersignature: random(64),
      enclaveKeyId: "ab".repeat(32),
    }),
    ...overrides,
  });
}

const EDGE_ENTRIES = [
  entry(),
  entry({ choice: Choice.UNSPECIFIED }),
  entry({ choice: 300 as Choice }),
  entry({ voteHash: new Uint8Array(0) }),
  entry({ signedVote: undefined }),
  create(PublishedVoteSchema, { signedVote: {} }),
  create(PublishedVoteSchema, {}),
  entry({
    signedVote: create(SignedVoteSchema, {
      payload: random(300),
      votingSignature: new Uint8Array(0),
      enclaveCountersignature: random(1),
      enclaveKeyId: "é-ü",
    }),
  }),
];

function list(entries: PublishedVote[]) {
  return create(PublishedVoteListSchema, {
    proposalId: "0b8f3c1e-2a4d-4e6f-8a9b-1c2d3e4f5a6b",
    signedProposal: {
      payload: random(90),
      orgSignature: random(71),
      signingKeyId: "cd".repeat(32),
      algorithm: 1,
    },
    signedHead: {
      payload: random(120),
      orgSignature: random(72),
      signingKeyId: "cd".repeat(32),
      algorithm: 1,
    },
    entries,
    countersigningKeys: [
      {
        keyId: "ab".repeat(32),
        publicKey: random(32),
        attestationDocument: random(4000),
        attestedAtMs: 1_700_000_000_000n,
      },
    ],
    merkleAlgorithm: MerkleTreeAlgorithm.RFC6962_SHA256,
    merkleRoot: random(32),
    treeSize: BigInt(entries.length),
    counts: [
      { choice: Choice.YES, count: 3n },
      { choice: Choice.NO, count: 0n },
    ],
    totalVotes: BigInt(entries.length),
    publishedAtMs: 1_700_000_001_000n,
  });
}

describe("binary codec", () => {
  it("encodes entries byte for byte as protobuf-es does, edge cases included", () => {
    for (const e of [...EDGE_ENTRIES, ...Array.from({ length: 200 }, () => entry())]) {
      expect(encodePublishedVoteBinary(e)).toEqual(toBinary(PublishedVoteSchema, e));
    }
  });
  it("encodes a list byte for byte as protobuf-es does, and splits and decodes it back", () => {
    const value = list([...EDGE_ENTRIES, ...Array.from({ length: 50 }, () => entry())]);
    const bytes = encodeVoteListBinary(value);
    expect(bytes).toEqual(toBinary(PublishedVoteListSchema, value));
    expect(decodeVoteListBinary(bytes)).toEqual(value);
    const empty = list([]);
    expect(encodeVoteListBinary(empty)).toEqual(toBinary(PublishedVoteListSchema, empty));
  });
  it("refuses a truncated list", () => {
    const bytes = encodeVoteListBinary(list([entry(), entry()]));
    expect(splitVoteListBinary(bytes.subarray(0, bytes.length - 5)).ok).toBe(false);
  });
});

describe("JSON codec", () => {
  it("writes each entry as protobuf JSON with the schema's field names", () => {
    for (const e of [...EDGE_ENTRIES, ...Array.from({ length: 100 }, () => entry())]) {
      expect(JSON.parse(publishedVoteToJson(e))).toEqual(
        toJson(PublishedVoteSchema, e, { useProtoFieldName: true }),
      );
    }
  });
  it("reads each entry as fromJson does, in every form protobuf JSON allows", () => {
    for (const e of [...EDGE_ENTRIES, ...Array.from({ length: 50 }, () => entry())]) {
      const snake = toJson(PublishedVoteSchema, e, { useProtoFieldName: true }) as JsonValue;
      const camel = toJson(PublishedVoteSchema, e, { enumAsInteger: true }) as JsonValue;
      for (const form of [snake, camel]) {
        expect(parsePublishedVoteJson(JSON.stringify(form))).toEqual(
          fromJson(PublishedVoteSchema, form),
        );
      }
    }
    const urlSafe = JSON.stringify({ vote_hash: "-_-_", voting_public_key: null, choice: 2 });
    expect(parsePublishedVoteJson(urlSafe)).toEqual(
      fromJson(PublishedVoteSchema, JSON.parse(urlSafe)),
    );
  });
  it("refuses unknown or repeated fields, wrong types and bad base64, naming the field", () => {
    const cases: [string, RegExp][] = [
      [`{"vote_hash":"AAAA","extra":1}`, /unknown field "extra"/],
      [`{"vote_hash":"AAAA","voteHash":"AAAA"}`, /twice/],
      [`{"vote_hash":"!!!!"}`, /vote_hash is not base64/],
      [`{"choice":"YES"}`, /choice/],
      [`{"signed_vote":{"enclave_key_id":5}}`, /enclave_key_id is not a string/],
      [`{"signed_vote":[]}`, /signed_vote is not a JSON object/],
      [`[]`, /entry is not a JSON object/],
    ];
    for (const [text, expected] of cases)
      expect(() => parsePublishedVoteJson(text)).toThrow(expected);
  });
  it("a list round-trips, and any valid JSON layout of it splits the same (compact, pretty, reordered)", () => {
    const value = list(Array.from({ length: 30 }, () => entry()));
    const ours = encodeVoteListJson(value);
    expect(decodeVoteListJson(ours)).toEqual(value);
    expect(JSON.parse(new TextDecoder().decode(ours))).toEqual(
      toJson(PublishedVoteListSchema, value, { useProtoFieldName: true }),
    );
    const compact = new TextEncoder().encode(toJsonString(PublishedVoteListSchema, value));
    const pretty = new TextEncoder().encode(
      toJsonString(PublishedVoteListSchema, value, { prettySpaces: 3 }),
    );
    const json = toJson(PublishedVoteListSchema, value) as Record<string, JsonValue>;
    const { entries, ...rest } = json;
    const reordered = new TextEncoder().encode(JSON.stringify({ entries, ...rest }));
    for (const bytes of [compact, pretty, reordered])
      expect(decodeVoteListJson(bytes)).toEqual(value);
  });
  it("splits strings with escaped quotes and backslashes correctly", () => {
    const value = list([entry(), entry()]);
    value.proposalId = 'a"b\\"c\\\\';
    for (const e of value.entries) if (e.signedVote) e.signedVote.enclaveKeyId = '\\"}{]["\\';
    expect(decodeVoteListJson(encodeVoteListJson(value))).toEqual(value);
    expect(
      decodeVoteListJson(
        new TextEncoder().encode(toJsonString(PublishedVoteListSchema, value, { prettySpaces: 2 })),
      ),
    ).toEqual(value);
  });
  it("refuses malformed lists: not JSON, unbalanced, an entry that is not an object, two entries arrays, trailing comma", () => {
    const bad = [
      "{",
      `{"entries":[{"choice":1}}`,
      `{"entries":[1]}`,
      `{"entries":["x"]}`,
      `{"entries":[{}],"entries":[{}]}`,
      `{"entries":[{},]}`,
      `{"entries":[{} {}]}`,
      `{"proposal_id":"x","unknown":1,"entries":[]}`,
    ];
    for (const text of bad)
      expect(splitVoteListJson(new TextEncoder().encode(text)).ok, text).toBe(false);
  });
});
