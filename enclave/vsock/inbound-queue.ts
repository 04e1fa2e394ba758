/** What {@link InboundQueue} asks of the connection that feeds it. */
export interface InboundQueueHooks {
  /** Stop reading from the peer: the queue is full. */
  pause(): void;
  /** Read from the peer again: the reader has caught up. */
  resume(): void;
  /** The reader left its loop early (`break`, `return` or `throw`): nobody reads any more. */
  abandoned(): void;
}

/**
 * Received frames waiting for the reader, as an AsyncIterable. Instead of failing when the reader
 * falls behind, it asks the connection to stop reading the socket once `highWaterBytes` are queued
 * and to read again below half of that: the byte stream then carries the backpressure to the peer.
 */
export class InboundQueue<T> implements AsyncIterable<T> {
  private readonly items: { item: T; size: number }[] = [];
  private queuedBytes = 0;
  private paused = false;
  private ended = false;
  private iterated = false;
  private waiting: ((result: IteratorResult<T>) => void) | undefined;

  constructor(
    private readonly highWaterBytes: number,
    private readonly hooks: InboundQueueHooks,
  ) {}

  /** Bytes of frames received and not yet taken by the reader. */
  get bufferedBytes(): number {
    return this.queuedBytes;
  }

  /** Adds an item of `size` bytes for the reader. */
  push(item: T, size: number): void {
    if (this.ended) return;
    if (this.waiting !== undefined) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: item, done: false });
      return;
    }
    this.items.push({ item, size });
    this.queuedBytes += size;
    if (!this.paused && this.queuedBytes >= this.highWaterBytes) {
      this.paused = true;
      this.hooks.pause();
    }
  }

  /** No more items: the reader finishes after those already queued. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.waiting !== undefined) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: undefined, done: true });
    }
  }

  /** Iterates once; the connection's frames have a single reader. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    if (this.iterated) throw new TypeError("a vsock connection's frames can be iterated only once");
    this.iterated = true;
    let finished = false;
    try {
      for (;;) {
        const result = await this.next();
        if (result.done === true) {
          finished = true;
          return;
        }
        yield result.value;
      }
    } finally {
      if (!finished) {
        this.ended = true;
        this.items.length = 0;
        this.queuedBytes = 0;
        this.hooks.abandoned();
      }
    }
  }

  private next(): Promise<IteratorResult<T>> {
    const entry = this.items.shift();
    if (entry !== undefined) {
      this.queuedBytes -= entry.size;
      if (this.paused && this.queuedBytes < this.highWaterBytes / 2) {
        this.paused = false;
        this.hooks.resume();
      }
      return Promise.resolve({ value: entry.item, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }
}
