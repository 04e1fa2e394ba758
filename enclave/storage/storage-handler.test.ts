import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode } from "../../gen/vettid/vsock/v1/frame_pb.js";
import {
  PutMode,
  StorageDeleteRequestSchema,
  StorageGetRequestSchema,
  StorageOutcome,
  StoragePutRequestSchema,
} from "../../gen/vettid/vsock/v1/storage_pb.js";
import { createFilesystemBlobStore } from "./filesystem-blob-store.js";
import { DATA_FILE, generationName } from "./filesystem-layout.js";
import { createStorageHandler, type StorageHandler } from "./storage-handler.js";

const KEY = "vaults/3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b/snapshot";
const bytes = (value: string): Uint8Array => new TextEncoder().encode(value);

let base: string;
let handler: StorageHandler;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "storage-handler-"));
  handler = createStorageHandler(createFilesystemBlobStore({ directory: join(base, "store") }), {
    keyPrefix: "vaults/",
  });
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const get = (key: string, version = "") =>
  handler.get(create(StorageGetRequestSchema, { key, version }));
const put = (key: string, data: string, mode: PutMode, expectedVersion = "") =>
  handler.put(create(StoragePutRequestSchema, { key, data: bytes(data), mode, expectedVersion }));
const remove = (key: string, expectedVersion = "") =>
  handler.delete(create(StorageDeleteRequestSchema, { key, expectedVersion }));

describe("storage handler: vsock messages onto a BlobStore", () => {
  it("maps every outcome of get, put and delete onto the response messages", async () => {
    expect(await get(KEY)).toMatchObject({ outcome: StorageOutcome.NOT_FOUND, version: "" });

    const created = await put(KEY, "one", PutMode.CREATE_ONLY);
    expect(created).toMatchObject({ outcome: StorageOutcome.OK, currentVersion: "" });
    const v1 = created.newVersion;
    expect(v1).not.toBe("");

    const got = await get(KEY);
    expect(got).toMatchObject({ outcome: StorageOutcome.OK, data: bytes("one"), version: v1 });
    expect(got.modifiedAtMs > 0n).toBe(true);

    expect(await put(KEY, "x", PutMode.CREATE_ONLY)).toMatchObject({
      outcome: StorageOutcome.VERSION_CONFLICT,
      newVersion: "",
      currentVersion: v1,
    });
    const v2 = (await put(KEY, "two", PutMode.IF_VERSION_MATCHES, v1)).newVersion;
    expect(await put(KEY, "x", PutMode.IF_VERSION_MATCHES, v1)).toMatchObject({
      outcome: StorageOutcome.VERSION_CONFLICT,
      currentVersion: v2,
    });
    expect(await get(KEY, v1)).toMatchObject({ outcome: StorageOutcome.OK, data: bytes("one") });
    expect((await put(KEY, "three", PutMode.OVERWRITE)).outcome).toBe(StorageOutcome.OK);

    expect(await remove(KEY, v2)).toMatchObject({ outcome: StorageOutcome.VERSION_CONFLICT });
    expect(await remove(KEY)).toMatchObject({ outcome: StorageOutcome.OK });
    expect(await remove(KEY)).toMatchObject({ outcome: StorageOutcome.NOT_FOUND });
    expect(await put(KEY, "x", PutMode.IF_VERSION_MATCHES, v2)).toMatchObject({
      outcome: StorageOutcome.NOT_FOUND,
      newVersion: "",
      currentVersion: "",
    });
  });

  it("refuses malformed put requests with MALFORMED_FRAME, naming the field", async () => {
    const cases: Array<[Promise<unknown>, string]> = [
      [
        put(KEY, "x", PutMode.UNSPECIFIED),
        "StoragePutRequest.mode UNSPECIFIED is not CREATE_ONLY, IF_VERSION_MATCHES or OVERWRITE",
      ],
      [put(KEY, "x", 7 as PutMode), "StoragePutRequest.mode 7 is not"],
      [
        put(KEY, "x", PutMode.IF_VERSION_MATCHES),
        "StoragePutRequest.expected_version is required with PUT_MODE_IF_VERSION_MATCHES",
      ],
      [
        put(KEY, "x", PutMode.CREATE_ONLY, "1-abc"),
        "StoragePutRequest.expected_version must be empty with CREATE_ONLY",
      ],
      [put("vaults/../etc", "x", PutMode.OVERWRITE), "must not contain a '..' segment"],
      [get("vaults/a b"), "a space (U+0020)"],
      [remove("vaults/x", "a b"), "expected version"],
    ];
    for (const [call, message] of cases) {
      await expect(call).rejects.toMatchObject({
        name: "VsockError",
        code: ErrorCode.MALFORMED_FRAME,
        message: expect.stringContaining(message),
      });
    }
  });

  it("refuses keys outside the enclave's prefix with PERMISSION_DENIED", async () => {
    for (const call of [get("backups/x"), put("vaultsx/y", "x", PutMode.OVERWRITE), remove("x")]) {
      await expect(call).rejects.toMatchObject({
        code: ErrorCode.PERMISSION_DENIED,
        message: expect.stringContaining(`is outside this enclave's prefix "vaults/"`),
      });
    }
  });

  it("reports store failures as UNAVAILABLE, and a damaged object as INTERNAL", async () => {
    await writeFile(join(base, "file"), "not a directory");
    const broken = createStorageHandler(
      createFilesystemBlobStore({ directory: join(base, "file", "store") }),
      { keyPrefix: "" },
    );
    await expect(
      broken.put(create(StoragePutRequestSchema, { key: KEY, mode: PutMode.OVERWRITE })),
    ).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });

    await put(KEY, "x", PutMode.CREATE_ONLY);
    await writeFile(join(base, "store", `${KEY}~v`, generationName(1), DATA_FILE), "damaged");
    await expect(get(KEY)).rejects.toMatchObject({
      code: ErrorCode.INTERNAL,
      message: expect.stringContaining("stored object file"),
    });
  });

  it("refuses an invalid key prefix", () => {
    const store = createFilesystemBlobStore({ directory: base });
    expect(() => createStorageHandler(store, { keyPrefix: "../" })).toThrow(
      expect.objectContaining({ code: ErrorCode.MALFORMED_FRAME }),
    );
  });
});
