import { equals, fromBinary, fromJson, toBinary, toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { loadSchemaCatalog } from "../../scripts/lib/schema-catalog.js";
import { sampleMessage } from "../support/sample-message.js";

const catalog = await loadSchemaCatalog();

describe("schema catalogue", () => {
  it("holds the message families of every area", () => {
    const packages = new Set(catalog.files.map((f) => f.proto.package));
    for (const area of [
      "vettid.options.v1",
      "vettid.vault.v1",
      "vettid.messagespace.v1",
      "vettid.control.v1",
      "vettid.broadcast.v1",
      "vettid.vsock.v1",
      "vettid.attestation.v1",
      "vettid.enrollment.v1",
      "vettid.voting.v1",
      "vettid.backup.v1",
    ]) {
      expect(packages, area).toContain(area);
    }
  });
});

describe.each(catalog.messages.map((m) => [m.typeName, m] as const))("%s", (_, schema) => {
  // Each oneof member gets its own pass, so every field of every message is encoded at least once.
  const passes = Math.max(1, ...schema.oneofs.map((o) => o.fields.length));

  it("round-trips through the binary encoding", () => {
    for (let choice = 0; choice < passes; choice++) {
      const message = sampleMessage(schema, { oneofChoice: choice });
      const bytes = toBinary(schema, message);
      if (schema.fields.length > 0) expect(bytes.length).toBeGreaterThan(0);
      expect(equals(schema, fromBinary(schema, bytes), message)).toBe(true);
    }
  });

  it("round-trips through the JSON encoding", () => {
    for (let choice = 0; choice < passes; choice++) {
      const message = sampleMessage(schema, { oneofChoice: choice });
      const json = toJson(schema, message, { registry: catalog.registry });
      const back = fromJson(schema, JSON.parse(JSON.stringify(json)), {
        registry: catalog.registry,
      });
      expect(equals(schema, back, message)).toBe(true);
    }
  });
});
