import { Readable } from "node:stream";
import { KMSClient } from "@aws-sdk/client-kms";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../gen/vettid/vsock/v1/frame_pb.js";
import {
  DataKeySpec,
  KmsDecryptRequestSchema,
  KmsGenerateDataKeyRequestSchema,
  RecipientKeyEncryptionAlgorithm,
} from "../../gen/vettid/vsock/v1/kms_pb.js";
import { VsockError } from "../vsock/index.js";
import { createKmsRelay } from "./kms-relay.js";

const KEY = "arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/** A KMS client whose requests are recorded and answered with canned JSON (no AWS). */
function relayWith(status: number, body: Record<string, unknown>) {
  const requests: { target: string; body: Record<string, unknown> }[] = [];
  const client = new KMSClient({
    region: "eu-central-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    maxAttempts: 1,
    requestHandler: {
      async handle(request: { headers: Record<string, string>; body?: unknown }) {
        requests.push({
          target: request.headers["x-amz-target"] ?? "",
          body: JSON.parse(String(request.body)),
        });
        const payload = Buffer.from(JSON.stringify(body));
        return {
          response: {
            statusCode: status,
            headers: {
              "content-type": "application/x-amz-json-1.1",
              "content-length": String(payload.length),
            },
            body: Readable.from([payload]),
          },
        };
      },
    },
  });
  return { relay: createKmsRelay({ client, keyId: KEY }), requests };
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const document = new Uint8Array([0xd2, 0x84, 1, 2, 3]);

function decryptRequest(
  overrides: {
    keyId?: string;
    attestationDocument?: Uint8Array;
    encryptionContext?: { key: string; value: string }[];
    keyEncryptionAlgorithm?: RecipientKeyEncryptionAlgorithm;
  } = {},
) {
  return create(KmsDecryptRequestSchema, {
    ciphertextBlob: new Uint8Array([9, 9, 9]),
    keyId: KEY,
    encryptionContext: [
      { key: "owner_guid", value: "0f6a7c52-1c1e-4e8b-9d3a-6a2f4b8c9d01" },
      { key: "purpose", value: "vault-material" },
    ],
    attestationDocument: document,
    keyEncryptionAlgorithm: RecipientKeyEncryptionAlgorithm.RSAES_OAEP_SHA_256,
    ...overrides,
  });
}

describe("the parent's KMS relay", () => {
  it("asks KMS to decrypt to the enclave's attested key and relays only CiphertextForRecipient", async () => {
    const envelope = new Uint8Array([0x30, 0x82, 1, 2]);
    const { relay, requests } = relayWith(200, {
      KeyId: KEY,
      CiphertextForRecipient: b64(envelope),
    });
    const response = await relay.decrypt(decryptRequest());
    expect(response.ciphertextForRecipient).toEqual(envelope);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.target).toBe("TrentService.Decrypt");
    expect(requests[0]?.body).toEqual({
      CiphertextBlob: b64(new Uint8Array([9, 9, 9])),
      KeyId: KEY,
      EncryptionContext: {
        owner_guid: "0f6a7c52-1c1e-4e8b-9d3a-6a2f4b8c9d01",
        purpose: "vault-material",
      },
      Recipient: {
        AttestationDocument: b64(document),
        KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256",
      },
    });
  });

  it("generates a data key for the enclave without ever holding it", async () => {
    const { relay, requests } = relayWith(200, {
      KeyId: KEY,
      CiphertextBlob: b64(new Uint8Array([7])),
      CiphertextForRecipient: b64(new Uint8Array([8])),
    });
    const response = await relay.generateDataKey(
      create(KmsGenerateDataKeyRequestSchema, {
        keyId: KEY,
        keySpec: DataKeySpec.AES_256,
        encryptionContext: [{ key: "owner_guid", value: "x" }],
        attestationDocument: document,
        keyEncryptionAlgorithm: RecipientKeyEncryptionAlgorithm.RSAES_OAEP_SHA_256,
      }),
    );
    expect(response.ciphertextBlob).toEqual(new Uint8Array([7]));
    expect(requests[0]?.target).toBe("TrentService.GenerateDataKey");
    expect(requests[0]?.body.KeySpec).toBe("AES_256");
  });

  it("refuses to relay plaintext KMS returned", async () => {
    const { relay } = relayWith(200, { KeyId: KEY, Plaintext: b64(new Uint8Array([1, 2, 3])) });
    await expect(relay.decrypt(decryptRequest())).rejects.toMatchObject({
      code: ErrorCode.INTERNAL,
    });
  });

  it("maps KMS refusals and outages to vsock error codes", async () => {
    const rejected = relayWith(400, { __type: "InvalidCiphertextException", message: "bad blob" });
    await expect(rejected.relay.decrypt(decryptRequest())).rejects.toMatchObject({
      code: ErrorCode.KMS_REJECTED,
    });
    const throttled = relayWith(500, { __type: "KMSInternalException", message: "oops" });
    await expect(throttled.relay.decrypt(decryptRequest())).rejects.toMatchObject({
      code: ErrorCode.UNAVAILABLE,
    });
  });

  it("refuses requests for other keys, without attestation or context, before calling KMS", async () => {
    const { relay, requests } = relayWith(200, {});
    for (const bad of [
      decryptRequest({ keyId: "arn:aws:kms:eu-central-1:111122223333:key/other" }),
      decryptRequest({ attestationDocument: new Uint8Array() }),
      decryptRequest({ encryptionContext: [] }),
      decryptRequest({ keyEncryptionAlgorithm: RecipientKeyEncryptionAlgorithm.UNSPECIFIED }),
    ]) {
      await expect(relay.decrypt(bad)).rejects.toBeInstanceOf(VsockError);
    }
    expect(requests).toHaveLength(0);
  });
});
