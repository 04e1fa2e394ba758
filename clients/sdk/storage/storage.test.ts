import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type ProteanCredential,
  ProteanCredentialSchema,
} from "../../../gen/vettid/vault/v1/credential_pb.js";
import {
  createCredentialStore,
  createFileSecureStorage,
  credentialKey,
  type SecureStorage,
} from "./index.js";

let directory: string;
let storage: SecureStorage;
beforeEach(async () => {
  directory = join(await mkdtemp(join(tmpdir(), "vettid-storage-")), "member");
  storage = await createFileSecureStorage(directory);
});
afterEach(async () => {
  await rm(join(directory, ".."), { recursive: true, force: true });
});

const identity = new Uint8Array(32).fill(9);

function credential(version: number, fill = version): ProteanCredential {
  return create(ProteanCredentialSchema, {
    encryptedBlob: new Uint8Array(200).fill(fill),
    cekKeyId: `cek-${version}`,
    cekVersion: BigInt(version),
    identityPublicKey: identity,
    issuedAtMs: BigInt(1_700_000_000_000 + version),
  });
}

describe("file secure storage", () => {
  it("keeps the directory 0700 and every file 0600", async () => {
    await storage.set("a", Uint8Array.of(1));
    expect((await stat(directory)).mode & 0o777).toBe(0o700);
    expect((await stat(join(directory, "a"))).mode & 0o777).toBe(0o600);
  });

  it("narrows a directory others can read to 0700 when opened", async () => {
    const { chmod } = await import("node:fs/promises");
    await chmod(directory, 0o755);
    await createFileSecureStorage(directory);
    expect((await stat(directory)).mode & 0o777).toBe(0o700);
  });

  it("gets, replaces, lists and deletes values", async () => {
    expect(await storage.get("missing")).toBeUndefined();
    await storage.set("nats.jwt", Uint8Array.of(1, 2));
    await storage.set("nats.jwt", Uint8Array.of(3));
    await storage.set("nats.seed", Uint8Array.of(4));
    await storage.set("device.key", new Uint8Array(0));
    expect(await storage.get("nats.jwt")).toEqual(Uint8Array.of(3));
    expect(await storage.get("device.key")).toEqual(new Uint8Array(0));
    expect((await storage.keys("nats.")).sort()).toEqual(["nats.jwt", "nats.seed"]);
    await storage.delete("nats.jwt");
    await storage.delete("nats.jwt");
    expect(await storage.get("nats.jwt")).toBeUndefined();
    expect(await readdir(directory)).not.toContain(expect.stringMatching(/\.tmp$/));
  });

  it("refuses keys that are not plain names", async () => {
    for (const key of ["", "../x", "a/b", "UPPER", ".hidden", "x".repeat(129), "a.tmp"]) {
      await expect(storage.set(key, Uint8Array.of(1)), key).rejects.toThrow(TypeError);
    }
  });

  it("removes the temporary files a crash left, and never lists them", async () => {
    await storage.set("credential.v1", Uint8Array.of(1));
    await writeFile(join(directory, "credential.v1.abcdef.tmp"), Uint8Array.of(7, 7), {
      mode: 0o600,
    });
    expect(await storage.keys()).toEqual(["credential.v1"]);
    await createFileSecureStorage(directory);
    expect(await readdir(directory)).toEqual(["credential.v1"]);
    expect(await storage.get("credential.v1")).toEqual(Uint8Array.of(1));
  });
});

describe("credential store", () => {
  it("is empty before enrollment, then holds the enrolled credential", async () => {
    const store = createCredentialStore(storage);
    expect(await store.current()).toBeUndefined();
    await store.save(credential(1));
    expect(await store.current()).toEqual(credential(1));
  });

  it("makes each rotation current and keeps the previous version only", async () => {
    const store = createCredentialStore(storage);
    for (let version = 1; version <= 5; version++) await store.save(credential(version));
    expect((await store.current())?.cekVersion).toBe(5n);
    expect((await store.all()).map((c) => c.cekVersion)).toEqual([5n, 4n]);
    expect(await store.version(4n)).toEqual(credential(4));
    expect(await store.version(3n)).toBeUndefined();
    expect((await storage.keys()).sort()).toEqual([credentialKey(4n), credentialKey(5n)]);
  });

  it("sorts versions numerically, beyond one digit", async () => {
    const store = createCredentialStore(storage, { retain: 3 });
    for (const version of [9, 10, 11]) await store.save(credential(version));
    expect((await store.current())?.cekVersion).toBe(11n);
  });

  it("treats the same credential again as a no-op, and refuses older, conflicting or foreign ones", async () => {
    const store = createCredentialStore(storage);
    await store.save(credential(2));
    await store.save(credential(2));
    await expect(store.save(credential(1))).rejects.toThrow(/older/);
    await expect(store.save(credential(2, 0x55))).rejects.toThrow(/another credential/);
    const foreign = credential(3);
    foreign.identityPublicKey = new Uint8Array(32).fill(1);
    await expect(store.save(foreign)).rejects.toThrow(/another identity/);
    for (const bad of [
      { ...credential(3), encryptedBlob: new Uint8Array(0) },
      { ...credential(3), encryptedBlob: new Uint8Array(16 * 1024 + 1) },
      { ...credential(3), cekVersion: 0n },
      { ...credential(3), cekKeyId: "" },
      { ...credential(3), identityPublicKey: new Uint8Array(31) },
    ]) {
      await expect(store.save(bad)).rejects.toThrow(/credential refused/);
    }
    expect((await store.current())?.cekVersion).toBe(2n);
  });

  it("falls back to the previous version when the newest entry is unreadable", async () => {
    const store = createCredentialStore(storage);
    await store.save(credential(1));
    await store.save(credential(2));
    await storage.set(credentialKey(2n), Uint8Array.of(0xff, 0xff, 0xff));
    expect((await store.current())?.cekVersion).toBe(1n);
    // An entry whose content names another version than its key is not trusted either.
    await storage.set(credentialKey(3n), toBinary(ProteanCredentialSchema, credential(7)));
    expect((await store.current())?.cekVersion).toBe(1n);
  });

  it("clears every version", async () => {
    const store = createCredentialStore(storage);
    await store.save(credential(1));
    await store.save(credential(2));
    await store.clear();
    expect(await store.current()).toBeUndefined();
  });
});
