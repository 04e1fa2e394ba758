import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  createRequestOpener,
  createRequestSealer,
  createSealingKeyPair,
  type SealingKeyPair,
} from "./hpke-sealing.js";

const subject = "OwnerSpace.3f2b8c1e-9a4d-4e7b-8c2a-1d5e6f7a8b9c.forVault.sealed";
const body = new TextEncoder().encode("secret request");

async function refusal(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected a refusal");
}

async function setup(now?: () => number) {
  const keyPair: SealingKeyPair = await createSealingKeyPair();
  return {
    keyPair,
    sealer: createRequestSealer(keyPair.publicKey),
    opener: createRequestOpener(keyPair, now === undefined ? {} : { now }),
  };
}

describe("sealed calls", () => {
  it("carry path, headers and body to the key holder and a response back", async () => {
    const { sealer, opener } = await setup();
    const { payload, call } = await sealer.seal(subject, "unary", {
      path: "/vettid.vault.v1.SecretsService/GetSecret",
      headers: [{ name: "content-type", value: "application/proto" }],
      body,
      sealedAtMs: BigInt(Date.now()),
    });
    expect(Buffer.from(payload).includes(Buffer.from("SecretsService"))).toBe(false);
    expect(Buffer.from(payload).includes(Buffer.from(body))).toBe(false);
    const opened = await opener.open(subject, "unary", payload);
    expect(opened.content.path).toBe("/vettid.vault.v1.SecretsService/GetSecret");
    expect(opened.content.body).toEqual(body);
    const response = opened.call.seal("unary", { status: 200, body: new Uint8Array([9]) });
    const back = await call.open("unary", response);
    expect(back.status).toBe(200);
    expect(back.body).toEqual(new Uint8Array([9]));
  });

  it("number the frames of a stream in both directions", async () => {
    const { sealer, opener } = await setup();
    const first = await sealer.seal(subject, "open", {
      path: "/a.B/C",
      sealedAtMs: BigInt(Date.now()),
    });
    const server = await opener.open(subject, "open", first.payload);
    for (let i = 0; i < 3; i++) {
      const frame = await first.call.seal("data", { body: new Uint8Array([i]) });
      expect((await server.call.open("data", frame)).body).toEqual(new Uint8Array([i]));
    }
    for (let i = 0; i < 3; i++) {
      const frame = server.call.seal("data", {
        status: i === 0 ? 200 : 0,
        body: new Uint8Array([i]),
      });
      expect((await first.call.open("data", frame)).body).toEqual(new Uint8Array([i]));
    }
  });

  it("refuse a tampered request", async () => {
    const { sealer, opener } = await setup();
    const { payload } = await sealer.seal(subject, "unary", {
      body,
      sealedAtMs: BigInt(Date.now()),
    });
    payload[payload.length - 1] = (payload.at(-1) ?? 0) ^ 0x01;
    const error = await refusal(opener.open(subject, "unary", payload));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toContain("altered");
  });

  it("refuse a request moved to another member's subject", async () => {
    const { sealer, opener } = await setup();
    const { payload } = await sealer.seal(subject, "unary", {
      body,
      sealedAtMs: BigInt(Date.now()),
    });
    const error = await refusal(
      opener.open(subject.replace("3f2b8c1e", "00000000"), "unary", payload),
    );
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toContain("another subject");
  });

  it("refuse a frame whose kind a relay changed", async () => {
    const { sealer, opener } = await setup();
    const { payload } = await sealer.seal(subject, "open", {
      body,
      sealedAtMs: BigInt(Date.now()),
    });
    expect((await refusal(opener.open(subject, "open-end", payload))).code).toBe(
      Code.InvalidArgument,
    );
  });

  it("refuse a replayed request", async () => {
    const { sealer, opener } = await setup();
    const { payload } = await sealer.seal(subject, "unary", {
      body,
      sealedAtMs: BigInt(Date.now()),
    });
    await opener.open(subject, "unary", payload.slice());
    const error = await refusal(opener.open(subject, "unary", payload));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toContain("replayed");
  });

  it("refuse a request sealed outside the replay window", async () => {
    const { sealer, opener } = await setup(() => Date.now() + 10 * 60_000);
    const { payload } = await sealer.seal(subject, "unary", {
      body,
      sealedAtMs: BigInt(Date.now()),
    });
    expect((await refusal(opener.open(subject, "unary", payload))).rawMessage).toContain(
      "replay window",
    );
  });

  it("say which key a request was sealed to when it is not this server's", async () => {
    const { sealer } = await setup();
    const other = await setup();
    const { payload } = await sealer.seal(subject, "unary", {
      body,
      sealedAtMs: BigInt(Date.now()),
    });
    const error = await refusal(other.opener.open(subject, "unary", payload));
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.rawMessage).toContain("fresh attestation");
  });

  it("refuse a tampered or reordered response", async () => {
    const { sealer, opener } = await setup();
    const first = await sealer.seal(subject, "open", { sealedAtMs: BigInt(Date.now()) });
    const server = await opener.open(subject, "open", first.payload);
    const a = server.call.seal("data", { status: 200, body: new Uint8Array([1]) });
    const b = server.call.seal("data", { body: new Uint8Array([2]) });
    const c = server.call.seal("data", { body: new Uint8Array([3]) });
    await first.call.open("data", a);
    // c before b: the response counter does not match.
    expect((await refusal(first.call.open("data", c))).code).toBe(Code.InvalidArgument);
    expect(b.length).toBeGreaterThan(0);
  });

  it("refuse garbage of every short length without throwing anything but a ConnectError", async () => {
    const { opener } = await setup();
    for (let length = 0; length < 64; length++) {
      const error = await refusal(opener.open(subject, "unary", new Uint8Array(length).fill(1)));
      expect([Code.InvalidArgument, Code.FailedPrecondition]).toContain(error.code);
    }
  });
});
