import { decode } from "cbor2";
import { describe, expect, it } from "vitest";
import { encodeSealContext, sealContextKeys } from "./seal-context.js";

describe("seal context encoding", () => {
  it("is the CBOR array of pairs sorted by key, whatever the object's key order", () => {
    const a = encodeSealContext({ purpose: "vault-material", owner_guid: "g" });
    const b = encodeSealContext({ owner_guid: "g", purpose: "vault-material" });
    expect(a).toEqual(b);
    expect(decode(a)).toEqual([
      ["owner_guid", "g"],
      ["purpose", "vault-material"],
    ]);
  });

  it("differs when a key or a value differs, including a split between them", () => {
    const base = encodeSealContext({ ab: "c" });
    expect(encodeSealContext({ a: "bc" })).not.toEqual(base);
    expect(encodeSealContext({ ab: "d" })).not.toEqual(base);
  });

  it("names keys, never values, for error messages", () => {
    expect(sealContextKeys({ purpose: "p", owner_guid: "secret-ish" })).toBe(
      "{owner_guid, purpose}",
    );
  });
});
