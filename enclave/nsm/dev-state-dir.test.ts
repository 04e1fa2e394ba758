import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDevNsm } from "./dev-nsm.js";
import { createDevRoot } from "./dev-root.js";
import {
  DEV_ROOT_CERTIFICATE_FILE,
  DEV_ROOT_FILE,
  DEV_SEALING_KEY_FILE,
  loadOrCreateDevRoot,
  loadOrCreateDevSealingKey,
} from "./dev-state-dir.js";
import { chainProblem, inspectDocument } from "./testing/inspect-document.js";

let base: string;
let stateDir: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "dev-nsm-state-"));
  stateDir = join(base, "state");
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const context = { owner_guid: "member-1" };

describe("dev NSM state directory", () => {
  it("keeps the root and the sealing key across restarts", async () => {
    const first = createDevNsm({ stateDir });
    const root = await first.rootCertificate();
    const sealed = await first.seal(Uint8Array.of(1, 2, 3), context);

    const restarted = createDevNsm({ stateDir });
    expect((await restarted.rootCertificate()).fingerprintSha256).toBe(root.fingerprintSha256);
    expect(await restarted.unseal(sealed, context)).toEqual(Uint8Array.of(1, 2, 3));
    const document = inspectDocument(await restarted.attest());
    expect(chainProblem(document, root.fingerprintSha256, document.timestampMs)).toBe(undefined);
  });

  it("writes the root (private) and its certificate (public, for clients to pin)", async () => {
    const nsm = createDevNsm({ stateDir });
    const root = await nsm.rootCertificate();
    await nsm.seal(Uint8Array.of(1), context);
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(stateDir, DEV_ROOT_FILE))).mode & 0o777).toBe(0o600);
    expect((await stat(join(stateDir, DEV_SEALING_KEY_FILE))).mode & 0o777).toBe(0o600);
    expect((await stat(join(stateDir, DEV_ROOT_CERTIFICATE_FILE))).mode & 0o777).toBe(0o644);
    expect(await readFile(join(stateDir, DEV_ROOT_CERTIFICATE_FILE), "utf8")).toBe(root.pem);
    const rootFile = await readFile(join(stateDir, DEV_ROOT_FILE), "utf8");
    expect(rootFile).toContain("-----BEGIN CERTIFICATE-----");
    expect(rootFile).toContain("-----BEGIN PRIVATE KEY-----");
    expect(await readFile(join(stateDir, DEV_SEALING_KEY_FILE))).toHaveLength(32);
    expect((await readdir(stateDir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("ends with one root and one key when processes create them at the same time", async () => {
    const roots = await Promise.all(
      Array.from({ length: 4 }, () =>
        loadOrCreateDevRoot(stateDir, () => createDevRoot(Date.now())),
      ),
    );
    const keys = await Promise.all(
      Array.from({ length: 4 }, () => loadOrCreateDevSealingKey(stateDir)),
    );
    for (const root of roots) expect(root.certificate).toEqual(roots[0]?.certificate);
    for (const key of keys) expect(key).toEqual(keys[0]);
  });

  it("reports a broken root file or key file as state_invalid, naming the file", async () => {
    await createDevNsm({ stateDir }).rootCertificate();
    await writeFile(join(stateDir, DEV_ROOT_FILE), "not pem");
    await expect(createDevNsm({ stateDir }).rootCertificate()).rejects.toMatchObject({
      code: "state_invalid",
      message: expect.stringContaining(DEV_ROOT_FILE),
    });
    await writeFile(join(stateDir, DEV_SEALING_KEY_FILE), "short");
    await expect(createDevNsm({ stateDir }).seal(Uint8Array.of(1), context)).rejects.toMatchObject({
      code: "state_invalid",
      message: expect.stringMatching(/dev-sealing\.key holds 5 bytes/),
    });
  });

  it("refuses a root file whose key is not the certificate's", async () => {
    const [a, b] = [createDevNsm(), createDevNsm()];
    const pemA = await a.exportRoot();
    const pemB = await b.exportRoot();
    await createDevNsm({ stateDir }).rootCertificate();
    await writeFile(join(stateDir, DEV_ROOT_FILE), `${pemA.certificatePem}${pemB.privateKeyPem}`);
    await expect(createDevNsm({ stateDir }).rootCertificate()).rejects.toThrow(
      /private key does not belong to its certificate/,
    );
  });

  it("reports a state directory it cannot use, naming it", async () => {
    await writeFile(join(base, "file"), "x");
    await expect(
      createDevNsm({ stateDir: join(base, "file", "state") }).rootCertificate(),
    ).rejects.toMatchObject({
      code: "state_invalid",
      message: expect.stringContaining(join(base, "file", "state")),
    });
  });
});
