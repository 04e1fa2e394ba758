import { Code, ConnectError } from "@connectrpc/connect";

/**
 * A queue that turns NATS callbacks (push) into an AsyncIterable (pull) for the Connect layer. When the reader falls more than `limit` items behind, the queue
 * fails with `resource_exhausted` instead of buffering without end: NATS has no flow control of its
 * own, so this cap is the protocol's flow control (docs/protocol.md, "Flow control").
 */
export class FrameQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private waitingFail: ((error: unknown) => void) | undefined;
  private ended = false;
  private failure: unknown;
  private iterated = false;

  constructor(private readonly limit: number) {}

  /** Adds an item; fails the queue when the reader is more than `limit` items behind. */
  push(item: T): void {
    if (this.ended || this.failure !== undefined) return;
    if (this.waiting !== undefined) {
      const resolve = this.waiting;
      this.clearWaiter();
      resolve({ value: item, done: false });
      return;
    }
    if (this.items.length >= this.limit) {
      this.items.length = 0;
      this.fail(
        new ConnectError(
          `receiver fell ${this.limit} frames behind the sender`,
          Code.ResourceExhausted,
        ),
      );
      return;
    }
    this.items.push(item);
  }

  /** No more items: the reader finishes after what is buffered. */
  end(): void {
    if (this.ended || this.failure !== undefined) return;
    this.ended = true;
    if (this.waiting !== undefined && this.items.length === 0) {
      const resolve = this.waiting;
      this.clearWaiter();
      resolve({ value: undefined, done: true });
    }
  }

  /** Fails the reader once it has read what is already buffered (frames that did arrive). */
  fail(error: unknown): void {
    if (this.failure !== undefined || this.ended) return;
    this.failure = error;
    if (this.waitingFail !== undefined) {
      const reject = this.waitingFail;
      this.clearWaiter();
      reject(error);
    }
  }

  /** Iterates once; the iterator is a generator, so `throw` and `return` work as Connect expects. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    if (this.iterated) throw new Error("a FrameQueue can be iterated once");
    this.iterated = true;
    try {
      for (;;) {
        const result = await this.next();
        if (result.done === true) return;
        yield result.value;
      }
    } finally {
      // The reader stopped (break, error or the end): nothing more will be read.
      this.ended = true;
      this.items.length = 0;
    }
  }

  private next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.waitingFail = reject;
    });
  }

  private clearWaiter(): void {
    this.waiting = undefined;
    this.waitingFail = undefined;
  }
}
