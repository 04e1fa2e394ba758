/**
 * The S3 store's requests and its mapping of S3's answers, without AWS: the real S3Client with a
 * request handler that records each HTTP request and answers with a canned response shaped like
 * S3's (status, headers, XML error bodies).
 */
import { Readable } from "node:stream";
import { S3Client } from "@aws-sdk/client-s3";
import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { BlobStoreError } from "../../enclave/storage/index.js";
import { createS3BlobStore } from "./s3-blob-store.js";

interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string | string[] | null>;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
}

interface CannedResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array;
}

const KEY = "vaults/3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b/snapshot";
const ETAG = "9b2cf535f27731c974343645a3985328";

function s3Error(status: number, code: string): CannedResponse {
  return {
    status,
    headers: { "content-type": "application/xml", "x-amz-request-id": "REQ1" },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${code} message</Message><RequestId>REQ1</RequestId></Error>`,
  };
}

async function bodyBytes(body: unknown): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array();
  if (body instanceof Uint8Array) return body;
  if (typeof body === "string") return new TextEncoder().encode(body);
  const chunks: Uint8Array[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    chunks.push(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk);
  }
  return Buffer.concat(chunks);
}

/** A store over a client whose every request is answered by `answer`, in order. */
function storeWith(...answers: CannedResponse[]) {
  const requests: RecordedRequest[] = [];
  const client = new S3Client({
    region: "eu-central-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    maxAttempts: 1,
    requestHandler: {
      async handle(request: {
        method: string;
        path: string;
        query?: Record<string, string | string[] | null>;
        headers: Record<string, string>;
        body?: unknown;
      }) {
        requests.push({
          method: request.method,
          path: request.path,
          query: { ...request.query },
          headers: Object.fromEntries(
            Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]),
          ),
          body: await bodyBytes(request.body),
        });
        const answer = answers.shift();
        if (answer === undefined) throw new Error("no canned response left");
        const body =
          typeof answer.body === "string"
            ? Buffer.from(answer.body)
            : (answer.body ?? new Uint8Array());
        return {
          response: {
            statusCode: answer.status,
            headers: { "content-length": String(body.byteLength), ...answer.headers },
            body: Readable.from([Buffer.from(body)]),
          },
        };
      },
    },
  });
  const store = createS3BlobStore({ client, bucket: "vettid-test-blobs", keyPrefix: "backups/" });
  return { store, requests };
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

describe("S3 blob store: requests", () => {
  it("create_only puts with If-None-Match: * and a SHA-256 checksum, under the key prefix", async () => {
    const data = new TextEncoder().encode("sealed snapshot");
    const { store, requests } = storeWith({ status: 200, headers: { etag: `"${ETAG}"` } });
    expect(await store.put(KEY, data, { mode: "create_only" })).toEqual({
      outcome: "ok",
      version: ETAG,
    });
    const [put] = requests;
    expect(put?.method).toBe("PUT");
    expect(put?.path).toBe(`/backups/${KEY}`);
    expect(put?.headers["if-none-match"]).toBe("*");
    expect(put?.headers["if-match"]).toBeUndefined();
    expect(put?.headers["x-amz-checksum-sha256"]).toBe(b64(sha256(data)));
    expect(Buffer.from(put?.body ?? []).toString()).toBe("sealed snapshot");
  });

  it("if_version_matches puts with If-Match: the quoted ETag", async () => {
    const { store, requests } = storeWith({ status: 200, headers: { etag: '"next"' } });
    expect(
      await store.put(KEY, new Uint8Array([1]), { mode: "if_version_matches", version: ETAG }),
    ).toEqual({ outcome: "ok", version: "next" });
    expect(requests[0]?.headers["if-match"]).toBe(`"${ETAG}"`);
    expect(requests[0]?.headers["if-none-match"]).toBeUndefined();
  });

  it("overwrite puts without a condition", async () => {
    const { store, requests } = storeWith({ status: 200, headers: { etag: '"x"' } });
    await store.put(KEY, new Uint8Array([1]), { mode: "overwrite" });
    expect(requests[0]?.headers["if-match"]).toBeUndefined();
    expect(requests[0]?.headers["if-none-match"]).toBeUndefined();
  });

  it("get reads with checksum mode, and a version as If-Match", async () => {
    const data = new TextEncoder().encode("hello");
    const { store, requests } = storeWith({
      status: 200,
      headers: {
        etag: `"${ETAG}"`,
        "last-modified": "Wed, 01 Apr 2026 10:00:00 GMT",
        "x-amz-checksum-sha256": b64(sha256(data)),
      },
      body: data,
    });
    const got = await store.get(KEY, ETAG);
    expect(got).toEqual({
      outcome: "ok",
      data,
      version: ETAG,
      modifiedAtMs: Date.UTC(2026, 3, 1, 10),
    });
    expect(requests[0]?.method).toBe("GET");
    expect(requests[0]?.headers["x-amz-checksum-mode"]).toBe("ENABLED");
    expect(requests[0]?.headers["if-match"]).toBe(`"${ETAG}"`);
  });

  it("delete with an expected version is one conditional DeleteObject", async () => {
    const { store, requests } = storeWith({ status: 204 });
    expect(await store.delete(KEY, ETAG)).toEqual({ outcome: "ok" });
    expect(requests.map((r) => r.method)).toEqual(["DELETE"]);
    expect(requests[0]?.headers["if-match"]).toBe(`"${ETAG}"`);
  });

  it("delete without a version reads the ETag first and deletes on it", async () => {
    const { store, requests } = storeWith(
      { status: 200, headers: { etag: `"${ETAG}"` } },
      { status: 204 },
    );
    expect(await store.delete(KEY)).toEqual({ outcome: "ok" });
    expect(requests.map((r) => r.method)).toEqual(["HEAD", "DELETE"]);
    expect(requests[1]?.headers["if-match"]).toBe(`"${ETAG}"`);
  });

  it("list pages through ListObjectsV2 and strips the key prefix", async () => {
    const page = (keys: string[], next?: string) => ({
      status: 200,
      headers: { "content-type": "application/xml" },
      body: `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>vettid-test-blobs</Name><Prefix>backups/vaults/</Prefix><KeyCount>${keys.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>${next !== undefined}</IsTruncated>${next === undefined ? "" : `<NextContinuationToken>${next}</NextContinuationToken>`}${keys
        .map(
          (k) =>
            `<Contents><Key>${k}</Key><LastModified>2026-04-01T10:00:00.000Z</LastModified><ETag>&quot;e-${k.length}&quot;</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass></Contents>`,
        )
        .join("")}</ListBucketResult>`,
    });
    const { store, requests } = storeWith(
      page(["backups/vaults/a", "backups/vaults/b"], "token-2"),
      page(["backups/vaults/c", "backups/vaults/bad key"]),
    );
    const keys: string[] = [];
    for await (const entry of store.list("vaults/")) {
      keys.push(entry.key);
      expect(entry.size).toBe(3);
      expect(entry.modifiedAtMs).toBe(Date.UTC(2026, 3, 1, 10));
    }
    expect(keys).toEqual(["vaults/a", "vaults/b", "vaults/c"]);
    expect(requests[0]?.query.prefix).toBe("backups/vaults/");
    expect(requests[1]?.query["continuation-token"]).toBe("token-2");
  });
});

describe("S3 blob store: S3's answers as outcomes", () => {
  it("412 on create_only is a version conflict", async () => {
    const { store } = storeWith(s3Error(412, "PreconditionFailed"));
    expect(await store.put(KEY, new Uint8Array([1]), { mode: "create_only" })).toEqual({
      outcome: "version_conflict",
    });
  });

  it("409 ConditionalRequestConflict (a concurrent conditional write) is a version conflict", async () => {
    const { store } = storeWith(s3Error(409, "ConditionalRequestConflict"));
    expect(
      await store.put(KEY, new Uint8Array([1]), { mode: "if_version_matches", version: ETAG }),
    ).toEqual({ outcome: "version_conflict" });
  });

  it("404 on if_version_matches is not_found", async () => {
    const { store } = storeWith(s3Error(404, "NoSuchKey"));
    expect(
      await store.put(KEY, new Uint8Array([1]), { mode: "if_version_matches", version: ETAG }),
    ).toEqual({ outcome: "not_found" });
  });

  it("NoSuchKey on get, and 412 on a get of another version, are not_found", async () => {
    expect(await storeWith(s3Error(404, "NoSuchKey")).store.get(KEY)).toEqual({
      outcome: "not_found",
    });
    expect(await storeWith(s3Error(412, "PreconditionFailed")).store.get(KEY, "old")).toEqual({
      outcome: "not_found",
    });
  });

  it("delete: a missing object is not_found, another version a conflict", async () => {
    expect(await storeWith({ status: 404 }).store.delete(KEY)).toEqual({ outcome: "not_found" });
    expect(await storeWith(s3Error(412, "PreconditionFailed")).store.delete(KEY, ETAG)).toEqual({
      outcome: "version_conflict",
    });
    expect(await storeWith(s3Error(404, "NoSuchKey")).store.delete(KEY, ETAG)).toEqual({
      outcome: "not_found",
    });
  });

  it("delete without a version retries when the object was replaced after the HEAD", async () => {
    const { store, requests } = storeWith(
      { status: 200, headers: { etag: '"first"' } },
      s3Error(412, "PreconditionFailed"),
      { status: 200, headers: { etag: '"second"' } },
      { status: 204 },
    );
    expect(await store.delete(KEY)).toEqual({ outcome: "ok" });
    expect(requests.map((r) => `${r.method} ${r.headers["if-match"] ?? ""}`)).toEqual([
      "HEAD ",
      'DELETE "first"',
      "HEAD ",
      'DELETE "second"',
    ]);
  });
});

describe("S3 blob store: failures", () => {
  async function thrown(promise: Promise<unknown>): Promise<BlobStoreError> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof BlobStoreError) return error;
      throw error;
    }
    throw new Error("expected a BlobStoreError");
  }

  it.each([
    [503, "SlowDown"],
    [500, "InternalError"],
    [403, "AccessDenied"],
  ])("HTTP %i %s is unavailable, naming the operation, key and S3 code", async (status, code) => {
    const error = await thrown(
      storeWith(s3Error(status, code)).store.put(KEY, new Uint8Array([1]), {
        mode: "create_only",
      }),
    );
    expect(error.code).toBe("unavailable");
    expect(error.message).toContain("PutObject");
    expect(error.message).toContain(KEY);
    expect(error.message).toContain(code);
    expect(error.message).not.toContain("message"); // S3's own message stays in `cause`
  });

  it("bytes that do not match their stored checksum are corrupt, never returned", async () => {
    const error = await thrown(
      storeWith({
        status: 200,
        headers: { etag: '"e"', "x-amz-checksum-sha256": b64(sha256(new Uint8Array([1, 2]))) },
        body: new Uint8Array([9, 9]),
      }).store.get(KEY),
    );
    expect(error.code).toBe("corrupt");
  });

  it("a response without an ETag is unavailable", async () => {
    const error = await thrown(
      storeWith({ status: 200 }).store.put(KEY, new Uint8Array([1]), { mode: "overwrite" }),
    );
    expect(error.code).toBe("unavailable");
    expect(error.message).toContain("no usable ETag");
  });

  it("refuses bad keys, conditions and sizes before any request", async () => {
    const { store, requests } = storeWith();
    expect((await thrown(store.get("../etc/passwd"))).code).toBe("invalid_argument");
    expect((await thrown(store.put(KEY, new Uint8Array(1), { mode: "nope" } as never))).code).toBe(
      "invalid_argument",
    );
    const small = createS3BlobStore({
      client: new S3Client({ region: "eu-central-1" }),
      bucket: "vettid-test-blobs",
      maxObjectBytes: 4,
    });
    expect(
      (await thrown(small.put(KEY, new Uint8Array(5), { mode: "create_only" }))).message,
    ).toContain("over the limit of 4");
    expect(requests).toEqual([]);
  });

  it("refuses a bad bucket or key prefix at construction", () => {
    const client = new S3Client({ region: "eu-central-1" });
    expect(() => createS3BlobStore({ client, bucket: "Bad_Bucket" })).toThrow(/bucket must be/);
    expect(() => createS3BlobStore({ client, bucket: "ok-bucket", keyPrefix: "x" })).toThrow(
      /must end with/,
    );
    expect(() => createS3BlobStore({ client, bucket: "ok-bucket", keyPrefix: "../x/" })).toThrow(
      /path traversal/,
    );
  });
});
