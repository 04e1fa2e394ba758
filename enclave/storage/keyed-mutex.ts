/**
 * Runs tasks one at a time per key, in call order, within this process; tasks under different
 * keys run concurrently. A task's failure does not stop the ones queued after it. Keys with
 * nothing queued take no memory.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `task` once every task queued before it under `key` has settled; resolves to its result. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** How many keys have a task running or queued. */
  get size(): number {
    return this.#tails.size;
  }
}
