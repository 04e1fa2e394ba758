import { fromBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { type FrameHeader, FrameHeaderSchema } from "../../gen/vettid/vsock/v1/frame_pb.js";

/** What could be read of a frame that does not decode as a whole. */
export interface SalvagedFrame {
  /** The header, if its field was reached and decodes on its own. */
  readonly header: FrameHeader | undefined;
  /** Field number of the body (the last non-header field reached), if any. */
  readonly bodyField: number | undefined;
}

/** `Frame.header` is field 1 (frame.proto). */
const HEADER_FIELD = 1;

/**
 * Walks the top-level fields of bytes that failed to decode as a `Frame`, to learn the header
 * (so the failure can be answered for its correlation id) and which body the frame meant to carry
 * (so that id is read in the right direction). Stops quietly at the first field it cannot step
 * over; never throws.
 */
export function salvageFrame(bytes: Uint8Array): SalvagedFrame {
  const reader = new BinaryReader(bytes);
  let header: FrameHeader | undefined;
  let bodyField: number | undefined;
  try {
    while (reader.pos < reader.len) {
      const [fieldNumber, wireType] = reader.tag();
      if (fieldNumber === HEADER_FIELD && wireType === WireType.LengthDelimited) {
        header = fromBinary(FrameHeaderSchema, reader.bytes());
      } else {
        // Noted before stepping over it: a body whose own content is broken still names its kind.
        bodyField = fieldNumber;
        reader.skip(wireType, fieldNumber);
      }
    }
  } catch {
    // What was read so far is all there is.
  }
  return { header, bodyField };
}
