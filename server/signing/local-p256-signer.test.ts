import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROPOSAL_CONTEXT, trustKeys } from "../../clients/sdk/voting/index.js";
import { backendSignatureFailure } from "../../clients/sdk/voting/trusted-keys.js";
import { createLocalP256Signer, loadOrCreateLocalP256Signer } from "./local-p256-signer.js";
import { signBackendObject } from "./org-signer.js";

describe("local P-256 signer", () => {
  it("signs objects the SDK verifies with the pinned key", async () => {
    const signer = createLocalP256Signer();
    const keys = trustKeys([(await signer.describe()).spki]);
    const object = await signBackendObject(signer, PROPOSAL_CONTEXT, new Uint8Array([7, 7]));
    expect(backendSignatureFailure(object, PROPOSAL_CONTEXT, keys)).toBeUndefined();
  });
  it("keeps its key in a 0600 file across restarts", async () => {
    const directory = await mkdtemp(join(tmpdir(), "vettid-signer-"));
    try {
      const path = join(directory, "keys", "org.pkcs8");
      const first = await loadOrCreateLocalP256Signer(path);
      const second = await loadOrCreateLocalP256Signer(path);
      expect((await second.describe()).keyId).toBe((await first.describe()).keyId);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
  it("refuses a key that is not P-256", () => {
    expect(() => createLocalP256Signer({ pkcs8: new Uint8Array([1, 2, 3]) })).toThrow(TypeError);
  });
});
