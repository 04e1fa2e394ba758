import { create, equals, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import {
  ErrorCode,
  type Frame,
  FrameHeaderSchema,
  FrameSchema,
} from "../../gen/vettid/vsock/v1/frame_pb.js";
import { PublishNatsMessageSchema } from "../../gen/vettid/vsock/v1/nats_pb.js";
import { createFrame, errorBody } from "./frame-body.js";
import { type DecodeResult, encodeFrame, FrameDecoder } from "./frame-codec.js";
import { MAX_FRAME_BYTES } from "./limits.js";
import { concat, prefixed, sampleBodies, sampleBody } from "./test-support.js";
import { FrameDecodeError, type FrameProblem, VsockError } from "./vsock-error.js";

function frames(results: DecodeResult[]): Frame[] {
  return results.map((result) => {
    if (result.error !== undefined) throw result.error;
    return result.frame;
  });
}

function expectSameFrames(actual: Frame[], expected: Frame[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((frame, index) => {
    expect(equals(FrameSchema, frame, expected[index] as Frame)).toBe(true);
  });
}

/** Frame bytes with a header, then `rest` (already-encoded fields), without a length prefix. */
function frameFields(
  header: { protocolVersion?: number; correlationId?: bigint } | undefined,
  rest: (writer: BinaryWriter) => void,
): Uint8Array {
  const writer = new BinaryWriter();
  if (header !== undefined) {
    writer
      .tag(1, WireType.LengthDelimited)
      .bytes(
        toBinary(
          FrameHeaderSchema,
          create(FrameHeaderSchema, { protocolVersion: 1, correlationId: 0n, ...header }),
        ),
      );
  }
  rest(writer);
  return writer.finish();
}

const stream = [
  createFrame(sampleBody("healthRequest"), { correlationId: 1n, deadlineAtMs: 1_700_000_000_000n }),
  createFrame(sampleBody("publishNatsMessage")),
  createFrame(sampleBody("storagePutRequest"), { correlationId: 0xffff_ffff_ffff_ffffn }),
  createFrame(errorBody(ErrorCode.KMS_REJECTED, "key policy refused the attestation"), {
    correlationId: 7n,
  }),
];
const streamBytes = concat(stream.map((frame) => encodeFrame(frame)));

describe("encodeFrame / FrameDecoder", () => {
  it("round-trips a frame of every body kind", () => {
    const bodies = sampleBodies();
    expect(bodies.map((body) => body.case)).toHaveLength(16);
    for (const [index, body] of bodies.entries()) {
      const frame = createFrame(body, { correlationId: BigInt(index + 1) });
      const decoded = frames(new FrameDecoder().push(encodeFrame(frame)));
      expectSameFrames(decoded, [frame]);
    }
  });

  it("decodes many frames from one chunk", () => {
    const many = Array.from({ length: 500 }, (_, index) =>
      createFrame(sampleBody("deliverNatsMessage"), { correlationId: BigInt(index + 1) }),
    );
    const decoded = frames(new FrameDecoder().push(concat(many.map((f) => encodeFrame(f)))));
    expectSameFrames(decoded, many);
  });

  it("decodes the same frames whatever the chunk boundaries: every split point, every pair of split points, byte by byte", () => {
    for (let cut = 0; cut <= streamBytes.length; cut++) {
      const decoder = new FrameDecoder();
      const decoded = [
        ...frames(decoder.push(streamBytes.subarray(0, cut))),
        ...frames(decoder.push(streamBytes.subarray(cut))),
      ];
      expectSameFrames(decoded, stream);
      expect(decoder.bufferedBytes).toBe(0);
    }
    const firstTwo = streamBytes.subarray(
      0,
      encodeFrame(stream[0] as Frame).length + encodeFrame(stream[1] as Frame).length,
    );
    for (let first = 0; first <= firstTwo.length; first++) {
      for (let second = first; second <= firstTwo.length; second++) {
        const decoder = new FrameDecoder();
        const decoded = [
          ...frames(decoder.push(firstTwo.subarray(0, first))),
          ...frames(decoder.push(firstTwo.subarray(first, second))),
          ...frames(decoder.push(firstTwo.subarray(second))),
        ];
        expectSameFrames(decoded, stream.slice(0, 2));
      }
    }
    const decoder = new FrameDecoder();
    const decoded: Frame[] = [];
    for (let index = 0; index < streamBytes.length; index++) {
      decoded.push(...frames(decoder.push(streamBytes.subarray(index, index + 1))));
    }
    expectSameFrames(decoded, stream);
  });

  it("reassembles a frame far larger than one chunk", () => {
    const body = sampleBody("storagePutRequest");
    body.value.data = new Uint8Array(300_000).map((_, index) => index % 251);
    const frame = createFrame(body, { correlationId: 3n });
    const bytes = encodeFrame(frame);
    for (const chunkSize of [1000, 65_536, 99_999]) {
      const decoder = new FrameDecoder();
      const decoded: Frame[] = [];
      for (let offset = 0; offset < bytes.length; offset += chunkSize) {
        decoded.push(...frames(decoder.push(bytes.subarray(offset, offset + chunkSize))));
      }
      expectSameFrames(decoded, [frame]);
    }
  });

  it("accepts a frame of exactly the maximum size", () => {
    const frame = createFrame(sampleBody("healthRequest"));
    const size = toBinary(FrameSchema, frame).length;
    expectSameFrames(frames(new FrameDecoder({ maxFrameBytes: size }).push(encodeFrame(frame))), [
      frame,
    ]);
  });
});

describe("FrameDecoder refuses a bad length for good", () => {
  it("refuses a length over the maximum as soon as the prefix is in, before any body", () => {
    const decoder = new FrameDecoder();
    const prefix = prefixed(new Uint8Array(0), MAX_FRAME_BYTES + 1);
    expect(decoder.push(prefix.subarray(0, 3))).toEqual([]);
    const [result, ...rest] = decoder.push(prefix.subarray(3));
    expect(rest).toEqual([]);
    const error = result?.error;
    expect(error).toBeInstanceOf(FrameDecodeError);
    expect(error?.problem).toBe("too-large");
    expect(error?.code).toBe(ErrorCode.FRAME_TOO_LARGE);
    expect(error?.fatal).toBe(true);
    expect(error?.message).toBe("frame length 16777217 exceeds the maximum of 16777216 bytes");
    expect(decoder.failure).toBe(error);
    // Poisoned: even a good frame after it is not decoded.
    expect(decoder.push(encodeFrame(stream[0] as Frame))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("honours a lower limit, and refuses a limit above the schema's", () => {
    const [result] = new FrameDecoder({ maxFrameBytes: 10 }).push(prefixed(new Uint8Array(11)));
    expect(result?.error?.message).toBe("frame length 11 exceeds the maximum of 10 bytes");
    expect(() => new FrameDecoder({ maxFrameBytes: MAX_FRAME_BYTES + 1 })).toThrow(
      /maxFrameBytes must be an integer from 1 to 16777216/,
    );
    expect(() => new FrameDecoder({ maxFrameBytes: 0 })).toThrow(RangeError);
  });

  it("refuses a zero length, after delivering the frames before it", () => {
    const decoder = new FrameDecoder();
    const results = decoder.push(
      concat([encodeFrame(stream[0] as Frame), prefixed(new Uint8Array(0)), streamBytes]),
    );
    expect(results).toHaveLength(2);
    expectSameFrames(frames(results.slice(0, 1)), stream.slice(0, 1));
    expect(results[1]?.error?.problem).toBe("zero-length");
    expect(results[1]?.error?.code).toBe(ErrorCode.MALFORMED_FRAME);
    expect(results[1]?.error?.fatal).toBe(true);
  });
});

describe("FrameDecoder reports a bad frame of correct length and carries on", () => {
  const validHeader = { correlationId: 42n };
  const corpus: {
    name: string;
    bytes: Uint8Array;
    problem: FrameProblem;
    code: ErrorCode;
    correlationId: bigint;
    bodyCase?: string;
    message: RegExp;
  }[] = [
    {
      name: "a truncated body",
      bytes: toBinary(FrameSchema, createFrame(sampleBody("storageGetRequest"), validHeader)).slice(
        0,
        -1,
      ),
      problem: "undecodable",
      code: ErrorCode.MALFORMED_FRAME,
      correlationId: 42n,
      bodyCase: "storageGetRequest",
      message:
        /^storageGetRequest of \d+ bytes is not a valid vettid\.vsock\.v1\.Frame: premature EOF/,
    },
    {
      name: "invalid UTF-8 in a string field",
      bytes: frameFields(validHeader, (writer) =>
        writer.tag(11, WireType.LengthDelimited).bytes(
          new BinaryWriter()
            .tag(1, WireType.LengthDelimited)
            .bytes(new Uint8Array([0xc3, 0x28]))
            .finish(),
        ),
      ),
      problem: "undecodable",
      code: ErrorCode.MALFORMED_FRAME,
      correlationId: 42n,
      bodyCase: "publishNatsMessage",
      message:
        /^publishNatsMessage of 12 bytes is not a valid .*: The encoded data was not valid for encoding utf-8$/,
    },
    {
      name: "field number 0",
      bytes: new Uint8Array([0x00, 0x01]),
      problem: "undecodable",
      code: ErrorCode.MALFORMED_FRAME,
      correlationId: 0n,
      message: /^frame of 2 bytes is not a valid vettid\.vsock\.v1\.Frame: illegal tag: field no 0/,
    },
    {
      name: "wire type 7",
      bytes: frameFields(validHeader, (writer) => writer.raw(new Uint8Array([0x57]))),
      problem: "undecodable",
      code: ErrorCode.MALFORMED_FRAME,
      correlationId: 42n,
      message: /illegal tag: field no 10 wire type 7/,
    },
    {
      name: "a header that does not decode",
      bytes: concat([
        new Uint8Array([0x0a, 0x01, 0x08]),
        frameFields(undefined, (writer) =>
          writer.tag(40, WireType.LengthDelimited).bytes(new Uint8Array()),
        ),
      ]),
      problem: "undecodable",
      code: ErrorCode.MALFORMED_FRAME,
      correlationId: 0n,
      message: /^frame of 6 bytes is not a valid vettid\.vsock\.v1\.Frame: /,
    },
    {
      name: "no header",
      bytes: toBinary(FrameSchema, create(FrameSchema, { body: sampleBody("healthRequest") })),
      problem: "missing-header",
      code: ErrorCode.MALFORMED_FRAME,
      correlationId: 0n,
      bodyCase: "healthRequest",
      message: /^healthRequest has no header$/,
    },
    {
      name: "no body",
      bytes: frameFields(validHeader, () => {}),
      problem: "missing-body",
      code: ErrorCode.MALFORMED_FRAME,
      correlationId: 42n,
      message: /^frame has no body$/,
    },
    {
      name: "a body this side does not know",
      bytes: frameFields(validHeader, (writer) =>
        writer.tag(99, WireType.LengthDelimited).bytes(new Uint8Array([1, 2, 3])),
      ),
      problem: "unknown-body",
      code: ErrorCode.UNSUPPORTED_BODY,
      correlationId: 42n,
      message: /^frame body is field 99, unknown to this side$/,
    },
  ];

  for (const bad of corpus) {
    it(`reports ${bad.name} and decodes the next frame`, () => {
      const decoder = new FrameDecoder();
      const results = decoder.push(concat([prefixed(bad.bytes), streamBytes]));
      const error = results[0]?.error;
      expect(error).toBeInstanceOf(FrameDecodeError);
      expect(error?.problem).toBe(bad.problem);
      expect(error?.code).toBe(bad.code);
      expect(error?.fatal).toBe(false);
      expect(error?.correlationId).toBe(bad.correlationId);
      expect(error?.bodyCase).toBe(bad.bodyCase);
      expect(error?.message).toMatch(bad.message);
      expectSameFrames(frames(results.slice(1)), stream);
      expect(decoder.failure).toBeUndefined();
    });
  }
});

describe("FrameDecoder refuses an unsupported protocol version for good", () => {
  for (const [name, bytes] of [
    [
      "version 2",
      frameFields({ protocolVersion: 2, correlationId: 5n }, (w) =>
        w.tag(40, WireType.LengthDelimited).bytes(new Uint8Array()),
      ),
    ],
    [
      "version 0 (an empty header)",
      frameFields({ protocolVersion: 0, correlationId: 5n }, (w) =>
        w.tag(40, WireType.LengthDelimited).bytes(new Uint8Array()),
      ),
    ],
    [
      "version 2 with a body this version cannot decode",
      frameFields({ protocolVersion: 2, correlationId: 5n }, (w) =>
        w.tag(40, WireType.Varint).uint32(1),
      ),
    ],
  ] as const) {
    it(`refuses ${name}`, () => {
      const decoder = new FrameDecoder();
      const results = decoder.push(concat([prefixed(bytes), streamBytes]));
      expect(results).toHaveLength(1);
      const error = results[0]?.error;
      expect(error?.problem).toBe("unsupported-version");
      expect(error?.code).toBe(ErrorCode.UNSUPPORTED_VERSION);
      expect(error?.fatal).toBe(true);
      expect(error?.correlationId).toBe(5n);
      expect(error?.message).toMatch(/^frame has protocol_version [02]; this side supports 1$/);
      expect(decoder.failure).toBe(error);
    });
  }
});

describe("encodeFrame refuses what a receiver would refuse", () => {
  it("refuses a frame over the maximum, naming its size and kind", () => {
    const body = sampleBody("storagePutRequest");
    body.value.data = new Uint8Array(2000);
    const error = catchError(() =>
      encodeFrame(createFrame(body, { correlationId: 9n }), { maxFrameBytes: 1000 }),
    );
    expect(error).toBeInstanceOf(VsockError);
    expect(error.code).toBe(ErrorCode.FRAME_TOO_LARGE);
    expect(error.correlationId).toBe(9n);
    expect(error.message).toMatch(
      /^storagePutRequest frame of 20\d\d bytes exceeds the maximum of 1000 bytes$/,
    );
  });

  it("refuses a frame without a header or a body", () => {
    expect(
      catchError(() => encodeFrame(create(FrameSchema, { body: sampleBody("healthRequest") })))
        .message,
    ).toBe("frame to send has no header");
    expect(
      catchError(() => encodeFrame(create(FrameSchema, { header: { protocolVersion: 1 } })))
        .message,
    ).toBe("frame to send has no body");
  });

  it("writes the length big-endian in front of the Frame bytes", () => {
    const frame = createFrame({
      case: "publishNatsMessage",
      value: create(PublishNatsMessageSchema, { data: new Uint8Array(300) }),
    });
    const bytes = encodeFrame(frame);
    const length = toBinary(FrameSchema, frame).length;
    expect(length).toBeGreaterThan(255);
    expect([...bytes.subarray(0, 4)]).toEqual([0, 0, length >> 8, length & 0xff]);
  });
});

function catchError(run: () => unknown): VsockError {
  try {
    run();
  } catch (error) {
    if (error instanceof VsockError) return error;
    throw error;
  }
  throw new Error("expected a VsockError");
}
