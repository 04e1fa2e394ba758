import { describe, expect, it } from "vitest";
import { KeyedMutex } from "./keyed-mutex.js";

/** A promise and the function that resolves it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe("KeyedMutex", () => {
  it("runs tasks under one key one at a time, in call order", async () => {
    const mutex = new KeyedMutex();
    const events: string[] = [];
    const gate = deferred();
    const first = mutex.run("k", async () => {
      events.push("first start");
      await gate.promise;
      events.push("first end");
      return 1;
    });
    const second = mutex.run("k", async () => {
      events.push("second");
      return 2;
    });
    await Promise.resolve();
    expect(events).toEqual(["first start"]);
    gate.resolve();
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(events).toEqual(["first start", "first end", "second"]);
  });

  it("runs tasks under different keys concurrently", async () => {
    const mutex = new KeyedMutex();
    const gate = deferred();
    const blocked = mutex.run("a", () => gate.promise);
    expect(await mutex.run("b", async () => "b ran")).toBe("b ran");
    gate.resolve();
    await blocked;
  });

  it("goes on after a failed task, and forgets keys with nothing queued", async () => {
    const mutex = new KeyedMutex();
    const failed = mutex.run("k", async () => {
      throw new Error("boom");
    });
    const next = mutex.run("k", async () => "next");
    await expect(failed).rejects.toThrow("boom");
    expect(await next).toBe("next");
    await new Promise((resolve) => setImmediate(resolve));
    expect(mutex.size).toBe(0);
  });
});
