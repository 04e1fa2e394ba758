import { describe, expect, it } from "vitest";
import { MAX_SEAL_PLAINTEXT_BYTES } from "./constants.js";
import { createDevNsm } from "./dev-nsm.js";
import { createDevSealer } from "./dev-sealing.js";
import type { SealContext } from "./nsm.js";
import { NsmError } from "./nsm-error.js";

const key = new Uint8Array(32).fill(0x42);
const context: SealContext = {
  owner_guid: "3f2b8c1e-9a4d-4e7b-8c2a-1d5e6f7a8b9c",
  purpose: "vault-material",
};
const material = crypto.getRandomValues(new Uint8Array(32));

function failure(run: () => unknown): NsmError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(NsmError);
    return error as NsmError;
  }
  throw new Error("expected a failure");
}

describe("dev sealing", () => {
  it("round-trips material under the same context, in any key order", () => {
    const sealer = createDevSealer(key);
    const sealed = sealer.seal(material, context);
    expect(sealer.unseal(sealed, context)).toEqual(material);
    expect(
      sealer.unseal(sealed, {
        purpose: context.purpose ?? "",
        owner_guid: context.owner_guid ?? "",
      }),
    ).toEqual(material);
    expect(sealed.length).toBe(1 + 8 + 24 + material.length + 16);
    expect(Buffer.from(sealed).includes(Buffer.from(material))).toBe(false);
  });

  it("uses a fresh nonce each time", () => {
    const sealer = createDevSealer(key);
    expect(sealer.seal(material, context)).not.toEqual(sealer.seal(material, context));
  });

  it("refuses another context with a clear error", () => {
    const sealer = createDevSealer(key);
    const sealed = sealer.seal(material, context);
    for (const other of [
      { ...context, owner_guid: "another-member" },
      { owner_guid: context.owner_guid ?? "" },
      { ...context, extra: "x" },
    ]) {
      const error = failure(() => sealer.unseal(sealed, other));
      expect(error.code).toBe("unseal_failed");
      expect(error.message).toMatch(
        /does not open under the given context \{.*owner_guid.*\}.*different context, or altered/,
      );
      expect(error.message).not.toContain("another-member");
    }
  });

  it("refuses a blob changed in any byte", () => {
    const sealer = createDevSealer(key);
    const sealed = sealer.seal(material, context);
    const expected = [/not the dev format/, ...Array(8).fill(/sealed under dev sealing key/)];
    for (let at = 0; at < sealed.length; at++) {
      const tampered = sealed.slice();
      tampered[at] = (tampered[at] ?? 0) ^ 0x01;
      const error = failure(() => sealer.unseal(tampered, context));
      expect(error.code).toBe("unseal_failed");
      expect(error.message).toMatch(expected[at] ?? /different context, or altered/);
    }
  });

  it("refuses a truncated blob and one sealed under another key, saying so", () => {
    const sealed = createDevSealer(key).seal(material, context);
    expect(
      failure(() => createDevSealer(key).unseal(sealed.subarray(0, 40), context)).message,
    ).toMatch(/40 bytes; a dev-sealed blob has at least 49/);
    const other = createDevSealer(new Uint8Array(32).fill(1));
    expect(failure(() => other.unseal(sealed, context)).message).toMatch(
      /sealed under dev sealing key [0-9a-f]{16}, but this NSM holds key [0-9a-f]{16}/,
    );
  });

  it("refuses empty or malformed contexts, naming the problem", () => {
    const sealer = createDevSealer(key);
    const cases: [unknown, RegExp][] = [
      [{}, /seal context is empty/],
      [null, /must be an object.*got null/],
      [["a"], /got an array/],
      ["owner", /got string/],
      [{ "": "x" }, /empty key/],
      [{ owner_guid: 7 }, /value "owner_guid" must be a string, got number/],
    ];
    for (const [bad, message] of cases) {
      const error = failure(() => sealer.seal(material, bad as SealContext));
      expect(error.code).toBe("invalid_argument");
      expect(error.message).toMatch(message);
    }
  });

  it(`refuses plaintexts over ${MAX_SEAL_PLAINTEXT_BYTES} bytes and keys that are not 32 bytes`, () => {
    const sealer = createDevSealer(key);
    expect(
      sealer.unseal(sealer.seal(new Uint8Array(MAX_SEAL_PLAINTEXT_BYTES), context), context),
    ).toHaveLength(MAX_SEAL_PLAINTEXT_BYTES);
    expect(
      failure(() => sealer.seal(new Uint8Array(MAX_SEAL_PLAINTEXT_BYTES + 1), context)).message,
    ).toMatch(/4097 bytes; the limit is 4096/);
    expect(failure(() => createDevSealer(new Uint8Array(16))).message).toMatch(
      /must be 32 bytes, got 16/,
    );
  });

  it("keeps its own copy of the key", () => {
    const mine = key.slice();
    const sealer = createDevSealer(mine);
    const sealed = sealer.seal(material, context);
    mine.fill(0);
    expect(sealer.unseal(sealed, context)).toEqual(material);
  });
});

describe("dev NSM sealing (through the Nsm interface)", () => {
  it("unseals what it sealed, and what another NSM with the same key sealed", async () => {
    const sealingKey = crypto.getRandomValues(new Uint8Array(32));
    const a = createDevNsm({ sealingKey });
    const b = createDevNsm({ sealingKey });
    const sealed = await a.seal(material, context);
    expect(await a.unseal(sealed, context)).toEqual(material);
    expect(await b.unseal(sealed, context)).toEqual(material);
  });

  it("rejects with NsmError unseal_failed for a wrong context, and cannot open another NSM's blobs", async () => {
    const a = createDevNsm();
    const sealed = await a.seal(material, context);
    await expect(a.unseal(sealed, { owner_guid: "someone-else" })).rejects.toMatchObject({
      name: "NsmError",
      code: "unseal_failed",
    });
    await expect(createDevNsm().unseal(sealed, context)).rejects.toThrow(
      /sealed under dev sealing key/,
    );
  });
});
