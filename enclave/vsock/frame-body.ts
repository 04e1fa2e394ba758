import { create } from "@bufbuild/protobuf";
import {
  type ErrorCode,
  ErrorFrameSchema,
  type Frame,
  FrameSchema,
} from "../../gen/vettid/vsock/v1/frame_pb.js";
import { FRAME_PROTOCOL_VERSION } from "./limits.js";

/** The content of a frame: one member of the `Frame.body` oneof. */
export type FrameBody = Exclude<Frame["body"], { case: undefined }>;

/** The name of a `Frame.body` member, e.g. `"storageGetRequest"`. */
export type FrameBodyCase = FrameBody["case"];

/**
 * Each request kind and the only response kind that answers it (an ErrorFrame may answer any).
 * The transport checks it, so a parent that answers a storage read with a KMS result is caught.
 */
export const RESPONSE_CASE = {
  storageGetRequest: "storageGetResponse",
  storagePutRequest: "storagePutResponse",
  storageDeleteRequest: "storageDeleteResponse",
  kmsDecryptRequest: "kmsDecryptResponse",
  kmsGenerateDataKeyRequest: "kmsGenerateDataKeyResponse",
  healthRequest: "healthResponse",
} as const satisfies Partial<Record<FrameBodyCase, FrameBodyCase>>;

/** A body kind sent with `request()`: it wants exactly one response. */
export type RequestCase = keyof typeof RESPONSE_CASE;

/** A body sent with `request()`. */
export type RequestBody = Extract<FrameBody, { case: RequestCase }>;

/** The body kind that answers request kind `C`. */
export type ResponseCase<C extends RequestCase = RequestCase> = (typeof RESPONSE_CASE)[C];

/** A frame whose body is the response to request kind `C`. */
export type ResponseFrame<C extends RequestCase = RequestCase> = Frame & {
  body: Extract<FrameBody, { case: ResponseCase<C> }>;
};

/**
 * The role of each body kind. `answer`s (responses and ErrorFrames) carry a correlation id chosen
 * by their recipient; `request`s and `one-way` frames one chosen by their sender. A `Record` over
 * every case, so a body added to the schema does not compile until it is placed here.
 */
const ROLE: Readonly<Record<FrameBodyCase, "request" | "one-way" | "answer">> = {
  deliverNatsMessage: "one-way",
  publishNatsMessage: "one-way",
  storageGetRequest: "request",
  storageGetResponse: "answer",
  storagePutRequest: "request",
  storagePutResponse: "answer",
  storageDeleteRequest: "request",
  storageDeleteResponse: "answer",
  kmsDecryptRequest: "request",
  kmsDecryptResponse: "answer",
  kmsGenerateDataKeyRequest: "request",
  kmsGenerateDataKeyResponse: "answer",
  healthRequest: "request",
  healthResponse: "answer",
  metricsReport: "one-way",
  error: "answer",
};

/** True for the body kinds `request()` sends. */
export function isRequestCase(bodyCase: string | undefined): bodyCase is RequestCase {
  return bodyCase !== undefined && Object.hasOwn(RESPONSE_CASE, bodyCase);
}

/**
 * True for responses and ErrorFrames, whose correlation id refers to a frame their recipient sent
 * (frame.proto: "the two directions never collide").
 */
export function isAnswerCase(bodyCase: FrameBodyCase | undefined): boolean {
  return bodyCase !== undefined && ROLE[bodyCase] === "answer";
}

const CASE_BY_FIELD: ReadonlyMap<number, FrameBodyCase> = new Map(
  FrameSchema.fields
    .filter((field) => field.oneof?.name === "body")
    .map((field) => [field.number, field.localName as FrameBodyCase]),
);

/** The body kind carried in `Frame` field `fieldNumber`, or undefined for a field this side does not know. */
export function bodyCaseOfField(fieldNumber: number): FrameBodyCase | undefined {
  return CASE_BY_FIELD.get(fieldNumber);
}

/** Header values of {@link createFrame}; the protocol version is always this side's. */
export interface FrameHeaderInit {
  /** See `FrameHeader.correlation_id`; default 0 (a one-way frame that wants no reply). */
  readonly correlationId?: bigint;
  /** See `FrameHeader.deadline_at_ms`; default 0 (none). */
  readonly deadlineAtMs?: bigint;
}

/** A frame carrying `body`, with a header of this side's protocol version. */
export function createFrame(body: FrameBody, header: FrameHeaderInit = {}): Frame {
  return create(FrameSchema, {
    header: {
      protocolVersion: FRAME_PROTOCOL_VERSION,
      correlationId: header.correlationId ?? 0n,
      deadlineAtMs: header.deadlineAtMs ?? 0n,
    },
    body,
  });
}

/**
 * An ErrorFrame body. `message` is visible to the parent: never put secrets, plaintext or key
 * material in it.
 */
export function errorBody(code: ErrorCode, message: string): FrameBody {
  return { case: "error", value: create(ErrorFrameSchema, { code, message }) };
}
