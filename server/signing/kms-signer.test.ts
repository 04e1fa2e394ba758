import { Readable } from "node:stream";
import { KMSClient } from "@aws-sdk/client-kms";
import { Code, ConnectError } from "@connectrpc/connect";
import { p256 } from "@noble/curves/nist.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import {
  keyIdOfSpki,
  PROPOSAL_CONTEXT,
  p256SpkiFromPoint,
  trustKeys,
  verifyP256Der,
} from "../../clients/sdk/voting/index.js";
import { hex, readTestdata } from "../../clients/sdk/voting/testing/vectors.js";
import { backendSignatureFailure } from "../../clients/sdk/voting/trusted-keys.js";
import { createKmsSigner } from "./kms-signer.js";
import { signBackendObject } from "./org-signer.js";

const KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

interface RecordedRequest {
  readonly target: string;
  readonly body: Record<string, unknown>;
  readonly path: string;
  readonly method: string;
}

type Answer = { status?: number; body: Record<string, unknown> };

/**
 * A KMS client whose HTTP layer is a function: it records every request the SDK builds (after
 * serialisation and signing) and answers with canned JSON, so the adapter runs through the real
 * SDK code path without AWS.
 */
function recordingKms(answer: (target: string, body: Record<string, unknown>) => Answer) {
  const requests: RecordedRequest[] = [];
  const requestHandler = {
    async handle(request: {
      headers: Record<string, string>;
      body?: unknown;
      path: string;
      method: string;
    }) {
      const target = request.headers["x-amz-target"] ?? "";
      const body = JSON.parse(String(request.body ?? "{}")) as Record<string, unknown>;
      requests.push({ target, body, path: request.path, method: request.method });
      const reply = answer(target, body);
      const status = reply.status ?? 200;
      return {
        response: {
          statusCode: status,
          reason: status === 200 ? "OK" : "Bad Request",
          headers: {
            "content-type": "application/x-amz-json-1.1",
            ...(status === 200 ? {} : { "x-amzn-errortype": String(reply.body.__type) }),
          },
          body: Readable.from([Buffer.from(JSON.stringify(reply.body))]),
        },
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
  };
  const client = new KMSClient({
    region: "eu-west-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    maxAttempts: 1,
    requestHandler: requestHandler as never,
  });
  return { client, requests };
}

function publicKeyAnswer(spki: Uint8Array, overrides: Record<string, unknown> = {}): Answer {
  return {
    body: {
      KeyId: KEY_ARN,
      KeySpec: "ECC_NIST_P256",
      KeyUsage: "SIGN_VERIFY",
      SigningAlgorithms: ["ECDSA_SHA_256"],
      PublicKey: Buffer.from(spki).toString("base64"),
      ...overrides,
    },
  };
}

/** A KMS stand-in that signs digests with a local key, as KMS does (DER, S not normalised). */
function emulatedKms(secret = p256.utils.randomSecretKey()) {
  const spki = p256SpkiFromPoint(p256.getPublicKey(secret, false));
  const kms = recordingKms((target, body) => {
    if (target === "TrentService.GetPublicKey") return publicKeyAnswer(spki);
    const digest = Buffer.from(String(body.Message), "base64");
    const signature = p256.sign(digest, secret, { prehash: false, format: "der", lowS: false });
    return {
      body: {
        KeyId: KEY_ARN,
        Signature: Buffer.from(signature).toString("base64"),
        SigningAlgorithm: "ECDSA_SHA_256",
      },
    };
  });
  return { ...kms, spki };
}

describe("KMS signer: the requests it sends", () => {
  it("asks for the public key once, then signs the SHA-256 digest (MessageType DIGEST)", async () => {
    const { client, requests, spki } = emulatedKms();
    const signer = createKmsSigner({ client, keyId: KEY_ARN });
    const message = new TextEncoder().encode("vettid-proposal-v1\0payload");
    const signature = await signer.signMessage(message);
    await signer.signMessage(message);
    expect(requests.map((r) => r.target)).toEqual([
      "TrentService.GetPublicKey",
      "TrentService.Sign",
      "TrentService.Sign",
    ]);
    expect(requests.every((r) => r.method === "POST" && r.path === "/")).toBe(true);
    expect(requests[0]?.body).toEqual({ KeyId: KEY_ARN });
    expect(requests[1]?.body).toEqual({
      KeyId: KEY_ARN,
      Message: Buffer.from(sha256(message)).toString("base64"),
      MessageType: "DIGEST",
      SigningAlgorithm: "ECDSA_SHA_256",
    });
    expect(verifyP256Der(signature, message, spki.subarray(26))).toBe(true);
    expect((await signer.describe()).keyId).toBe(keyIdOfSpki(spki));
  });

  it("signs messages over KMS's 4 KiB RAW limit, sending only their hash", async () => {
    const { client, requests } = emulatedKms();
    const signer = createKmsSigner({ client, keyId: KEY_ARN });
    const payload = new TextEncoder().encode("x".repeat(80_000));
    const object = await signBackendObject(signer, PROPOSAL_CONTEXT, payload);
    const sign = requests.find((r) => r.target === "TrentService.Sign");
    expect(Buffer.from(String(sign?.body.Message), "base64")).toHaveLength(32);
    const keys = trustKeys([(await signer.describe()).spki]);
    expect(backendSignatureFailure(object, PROPOSAL_CONTEXT, keys)).toBeUndefined();
  });

  it("refuses a key that is not an ECC_NIST_P256 SIGN_VERIFY ECDSA_SHA_256 key, as internal", async () => {
    const spki = p256SpkiFromPoint(p256.getPublicKey(p256.utils.randomSecretKey(), false));
    for (const [override, expected] of [
      [{ KeySpec: "RSA_2048" }, /key spec RSA_2048/],
      [{ KeyUsage: "ENCRYPT_DECRYPT" }, /key usage/],
      [{ SigningAlgorithms: ["ECDSA_SHA_384"] }, /ECDSA_SHA_256/],
      [{ PublicKey: Buffer.from(spki.subarray(1)).toString("base64") }, /SPKI/],
    ] as const) {
      const { client } = recordingKms(() => publicKeyAnswer(spki, override));
      const error = await createKmsSigner({ client, keyId: KEY_ARN })
        .describe()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.Internal);
      expect((error as ConnectError).message).toMatch(expected);
    }
  });

  it("a KMS error is unavailable, and the public key is fetched again afterwards", async () => {
    let fail = true;
    const spki = p256SpkiFromPoint(p256.getPublicKey(p256.utils.randomSecretKey(), false));
    const { client, requests } = recordingKms(() =>
      fail
        ? { status: 400, body: { __type: "KMSInternalException", message: "try later" } }
        : publicKeyAnswer(spki),
    );
    const signer = createKmsSigner({ client, keyId: KEY_ARN });
    const error = await signer.describe().catch((e: unknown) => e);
    expect((error as ConnectError).code).toBe(Code.Unavailable);
    expect((error as ConnectError).cause).toBeDefined();
    fail = false;
    expect((await signer.describe()).keyId).toBe(keyIdOfSpki(spki));
    expect(requests).toHaveLength(2);
  });

  it("refuses an answer with another algorithm or no signature", async () => {
    const spki = p256SpkiFromPoint(p256.getPublicKey(p256.utils.randomSecretKey(), false));
    for (const [sign, expected] of [
      [
        { KeyId: KEY_ARN, Signature: "MAYCAQECAQE=", SigningAlgorithm: "ECDSA_SHA_384" },
        /ECDSA_SHA_384/,
      ],
      [{ KeyId: KEY_ARN, SigningAlgorithm: "ECDSA_SHA_256" }, /without a signature/],
    ] as const) {
      const { client } = recordingKms((target) =>
        target === "TrentService.GetPublicKey" ? publicKeyAnswer(spki) : { body: sign },
      );
      const error = await createKmsSigner({ client, keyId: KEY_ARN })
        .signMessage(new Uint8Array([1]))
        .catch((e: unknown) => e);
      expect((error as ConnectError).code).toBe(Code.Internal);
      expect((error as ConnectError).message).toMatch(expected);
    }
  });
});

interface Wycheproof {
  testGroups: {
    publicKeyDer: string;
    tests: { tcId: number; comment: string; msg: string; sig: string; result: string }[];
  }[];
}

describe("KMS signer: DER handling, with Wycheproof's DER signatures as KMS answers", () => {
  const vectors = readTestdata<Wycheproof>("wycheproof_ecdsa_secp256r1_sha256_test.json");
  it("returns every valid signature (high S included) and refuses every invalid one, naming why", async () => {
    const wrong: string[] = [];
    let highS = 0;
    for (const group of vectors.testGroups) {
      const spki = hex(group.publicKeyDer);
      let current = "";
      const { client } = recordingKms((target) =>
        target === "TrentService.GetPublicKey"
          ? publicKeyAnswer(spki)
          : { body: { KeyId: KEY_ARN, Signature: current, SigningAlgorithm: "ECDSA_SHA_256" } },
      );
      const signer = createKmsSigner({ client, keyId: KEY_ARN });
      if ((await signer.describe().catch(() => undefined)) === undefined) continue;
      for (const test of group.tests) {
        current = Buffer.from(test.sig, "hex").toString("base64");
        const outcome = await signer.signMessage(hex(test.msg)).then(
          (signature) => ({ ok: Buffer.from(signature).toString("hex") === test.sig }),
          (error: unknown) => ({ ok: false, error: error as ConnectError }),
        );
        if (outcome.ok !== (test.result === "valid")) wrong.push(`${test.tcId} ${test.comment}`);
        if (!outcome.ok && "error" in outcome) {
          expect(outcome.error.code).toBe(Code.Internal);
          expect(outcome.error.message).toMatch(/malformed signature|does not verify/);
        }
        if (
          outcome.ok &&
          p256.Signature.fromBytes(hex(test.sig), "der").s > p256.Point.Fn.ORDER / 2n
        )
          highS++;
      }
    }
    expect(wrong).toEqual([]);
    expect(highS).toBeGreaterThan(0);
  });
});
