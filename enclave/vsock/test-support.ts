// Shared by this folder's tests; not part of the public surface.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DescMessage } from "@bufbuild/protobuf";
import { FrameSchema } from "../../gen/vettid/vsock/v1/frame_pb.js";
import { sampleMessage } from "../../test/support/sample-message.js";
import type { FrameBody, FrameBodyCase } from "./frame-body.js";
import { LENGTH_PREFIX_BYTES } from "./limits.js";

/** A fresh directory for socket files, removed by `cleanup`. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "vsock-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** One body of every kind in the schema, every field set. */
export function sampleBodies(): FrameBody[] {
  return FrameSchema.fields
    .filter((field) => field.oneof?.name === "body")
    .map(
      (field) =>
        ({
          case: field.localName as FrameBodyCase,
          value: sampleMessage(field.message as DescMessage),
        }) as FrameBody,
    );
}

/** A sample body of one kind. */
export function sampleBody<C extends FrameBodyCase>(bodyCase: C): Extract<FrameBody, { case: C }> {
  const body = sampleBodies().find((candidate) => candidate.case === bodyCase);
  if (body === undefined) throw new Error(`no body ${bodyCase}`);
  return body as Extract<FrameBody, { case: C }>;
}

/** `bytes` behind a length prefix announcing `length` (default: their real length). */
export function prefixed(bytes: Uint8Array, length = bytes.length): Uint8Array {
  const out = new Uint8Array(LENGTH_PREFIX_BYTES + bytes.length);
  new DataView(out.buffer).setUint32(0, length, false);
  out.set(bytes, LENGTH_PREFIX_BYTES);
  return out;
}

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Items pushed by callbacks, awaited one at a time in arrival order. */
export class Arrivals<T> {
  private readonly items: T[] = [];
  private readonly waiters: ((item: T) => void)[] = [];

  readonly push = (item: T): void => {
    const waiter = this.waiters.shift();
    if (waiter === undefined) this.items.push(item);
    else waiter(item);
  };

  next(): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get length(): number {
    return this.items.length;
  }
}
