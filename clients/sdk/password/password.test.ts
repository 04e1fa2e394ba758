import {
  createDecipheriv,
  type createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
} from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  decryptPasswordHash,
  generateX25519KeyPair,
} from "../../../enclave/vault-manager/credential-crypto.js";
import {
  Argon2idParametersSchema,
  ProteanCredentialSchema,
  StartPasswordChallengeResponseSchema,
  UserTransactionKeySchema,
} from "../../../gen/vettid/vault/v1/credential_pb.js";
import { deriveArgon2id } from "./hash-password.js";
import {
  argon2idParametersProblem,
  createArgon2idParameters,
  createPasswordAuthorization,
  createPasswordSetup,
  encryptPasswordHash,
  hashPassword,
} from "./index.js";

const encoder = new TextEncoder();

/**
 * The reference implementation's own vectors (phc-winner-argon2 `src/test.c`, Argon2id v0x13,
 * password "password", salt "somesalt"): the costs are below the vault's minimums, so they go
 * through the unchecked derivation the checked one calls.
 */
const REFERENCE_VECTORS = [
  {
    t: 2,
    m: 65_536,
    p: 1,
    tag: "09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7",
  },
  { t: 2, m: 256, p: 1, tag: "9dfeb910e80bad0311fee20f9c0e2b12c17987b4cac90c2ef54d5b3021c68bfe" },
  { t: 2, m: 256, p: 2, tag: "6d093c501fd5999645e0ea3bf620d7b8be7fd2db59c20d9fff9539da2bf57037" },
];

describe("Argon2id", () => {
  it.each(REFERENCE_VECTORS)("matches the reference implementation (t=$t m=$m p=$p)", async (v) => {
    const tag = await deriveArgon2id(encoder.encode("password"), {
      memoryKib: v.m,
      iterations: v.t,
      parallelism: v.p,
      salt: encoder.encode("somesalt"),
    });
    expect(Buffer.from(tag).toString("hex")).toBe(v.tag);
  });

  it("hashes with the vault's minimum parameters: 32 bytes, deterministic, with progress", async () => {
    const parameters = createArgon2idParameters({
      parallelism: 1,
      salt: new Uint8Array(16).fill(3),
    });
    const progress: number[] = [];
    const hash = await hashPassword("correct horse", parameters, {
      onProgress: (f) => progress.push(f),
    });
    expect(hash).toHaveLength(32);
    const again = await deriveArgon2id(encoder.encode("correct horse"), parameters);
    expect(again).toEqual(hash);
    expect(progress.length).toBeGreaterThan(0);
  });

  it("new parameters meet the vault's minimums with a fresh 16-byte salt", () => {
    const a = createArgon2idParameters();
    const b = createArgon2idParameters();
    expect(argon2idParametersProblem(a)).toBeUndefined();
    expect(a).toMatchObject({
      memoryKib: 65_536,
      iterations: 3,
      parallelism: 1,
      outputLength: 32,
      version: 19,
    });
    expect(a.salt).toHaveLength(16);
    expect(a.salt).not.toEqual(b.salt);
  });

  it.each([
    [{ memoryKib: 65_535 }, /memory_kib is 65535/],
    [{ memoryKib: 2 * 1024 * 1024 }, /at most/],
    [{ iterations: 2 }, /iterations is 2/],
    [{ iterations: 1000 }, /at most 64/],
    [{ parallelism: 0 }, /parallelism/],
    [{ parallelism: 5 }, /parallelism/],
    [{ salt: new Uint8Array(15) }, /salt is 15 bytes/],
    [{ salt: new Uint8Array(65) }, /salt is 65 bytes/],
    [{ outputLength: 64 }, /output_length/],
    [{ version: 16 }, /version is 16/],
  ])(
    "refuses parameters below the vault's minimums or beyond the device's means: %o",
    async (change, message) => {
      const parameters = create(Argon2idParametersSchema, {
        ...createArgon2idParameters(),
        ...change,
      });
      expect(argon2idParametersProblem(parameters)).toMatch(message);
      await expect(hashPassword("pw", parameters)).rejects.toThrow(message);
    },
  );

  it("refuses an empty password", async () => {
    await expect(hashPassword("", createArgon2idParameters())).rejects.toThrow(/empty/);
  });
});

/** The vault's side, written independently with node:crypto (OpenSSL). */
function openWithNodeCrypto(
  encrypted: { ephemeralPublicKey: Uint8Array; nonce: Uint8Array; ciphertext: Uint8Array },
  ltk: { privateKey: ReturnType<typeof createPrivateKey>; publicKey: Uint8Array },
  aad: string,
): Uint8Array {
  const ephemeral = createPublicKey({
    key: Buffer.concat([
      Buffer.from("302a300506032b656e032100", "hex"),
      encrypted.ephemeralPublicKey,
    ]),
    format: "der",
    type: "spki",
  });
  const shared = diffieHellman({ privateKey: ltk.privateKey, publicKey: ephemeral });
  const salt = Buffer.concat([encrypted.ephemeralPublicKey, ltk.publicKey]);
  const key = Buffer.from(hkdfSync("sha256", shared, salt, "vettid-password-v1", 32));
  const tag = encrypted.ciphertext.subarray(-16);
  const decipher = createDecipheriv("chacha20-poly1305", key, encrypted.nonce, {
    authTagLength: 16,
  });
  decipher.setAAD(encoder.encode(aad), { plaintextLength: encrypted.ciphertext.length - 16 });
  decipher.setAuthTag(tag);
  return new Uint8Array(
    Buffer.concat([decipher.update(encrypted.ciphertext.subarray(0, -16)), decipher.final()]),
  );
}

function nodeLtk() {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  return {
    privateKey,
    publicKey: new Uint8Array(publicKey.export({ format: "der", type: "spki" }).subarray(-32)),
  };
}

describe('encryption of the hash to a UTK ("vettid-password-v1")', () => {
  const hash = new Uint8Array(32).map((_, i) => i);

  it("opens with an independent implementation (node:crypto) under the same aad, and only then", () => {
    const ltk = nodeLtk();
    const encrypted = encryptPasswordHash(hash, ltk.publicKey, "challenge-1");
    expect(encrypted.ephemeralPublicKey).toHaveLength(32);
    expect(encrypted.nonce).toHaveLength(12);
    expect(encrypted.ciphertext).toHaveLength(48);
    expect(openWithNodeCrypto(encrypted, ltk, "challenge-1")).toEqual(hash);
    expect(() => openWithNodeCrypto(encrypted, ltk, "challenge-2")).toThrow();
  });

  it("opens with the vault's own code (enclave/vault-manager)", () => {
    const utk = generateX25519KeyPair();
    const encrypted = encryptPasswordHash(hash, utk.publicKey, "utk-7");
    expect(decryptPasswordHash({ ...encrypted, aad: "utk-7" }, utk)).toEqual(hash);
    expect(decryptPasswordHash({ ...encrypted, aad: "utk-8" }, utk)).toBeUndefined();
  });

  it("uses a fresh ephemeral key and nonce every time", () => {
    const ltk = nodeLtk();
    const a = encryptPasswordHash(hash, ltk.publicKey, "c");
    const b = encryptPasswordHash(hash, ltk.publicKey, "c");
    expect(a.ephemeralPublicKey).not.toEqual(b.ephemeralPublicKey);
    expect(a.nonce).not.toEqual(b.nonce);
  });

  it("refuses a UTK that is not 32 bytes or is a low-order point, and an empty aad", () => {
    expect(() => encryptPasswordHash(hash, new Uint8Array(31), "c")).toThrow(TypeError);
    expect(() => encryptPasswordHash(hash, new Uint8Array(32), "c")).toThrow(/low-order|all-zero/);
    const one = new Uint8Array(32);
    one[0] = 1;
    expect(() => encryptPasswordHash(hash, one, "c")).toThrow(/low-order|all-zero/);
    expect(() => encryptPasswordHash(hash, nodeLtk().publicKey, "")).toThrow(/aad/);
  });
});

describe("password proofs", () => {
  const credential = create(ProteanCredentialSchema, {
    encryptedBlob: Uint8Array.of(1),
    cekKeyId: "cek-1",
    cekVersion: 1n,
    identityPublicKey: new Uint8Array(32),
  });

  it("an authorization carries the challenge, the UTK id, the credential and the hash the vault can open", async () => {
    const utk = generateX25519KeyPair();
    const parameters = createArgon2idParameters({ parallelism: 1 });
    const challenge = create(StartPasswordChallengeResponseSchema, {
      challengeId: "ch-1",
      utk: create(UserTransactionKeySchema, { utkId: "utk-1", publicKey: utk.publicKey }),
      parameters,
    });
    const authorization = await createPasswordAuthorization({
      challenge,
      password: "pw-1",
      credential,
    });
    expect(authorization).toMatchObject({ challengeId: "ch-1", utkId: "utk-1" });
    expect(authorization.credential).toEqual(credential);
    const opened = decryptPasswordHash({ ...authorization, aad: "ch-1" }, utk);
    expect(opened).toEqual(await hashPassword("pw-1", parameters));
  });

  it("a setup carries new parameters and the hash under the UTK id", async () => {
    const utk = generateX25519KeyPair();
    const parameters = createArgon2idParameters({ parallelism: 1 });
    const setup = await createPasswordSetup({
      utk: create(UserTransactionKeySchema, { utkId: "utk-2", publicKey: utk.publicKey }),
      password: "new password",
      parameters,
    });
    expect(setup.parameters).toEqual(parameters);
    expect(decryptPasswordHash({ ...setup, aad: "utk-2" }, utk)).toEqual(
      await hashPassword("new password", parameters),
    );
  });

  it("refuses a challenge without an id, a UTK or parameters", async () => {
    const utk = create(UserTransactionKeySchema, {
      utkId: "u",
      publicKey: generateX25519KeyPair().publicKey,
    });
    for (const challenge of [
      create(StartPasswordChallengeResponseSchema, { utk, parameters: createArgon2idParameters() }),
      create(StartPasswordChallengeResponseSchema, {
        challengeId: "c",
        parameters: createArgon2idParameters(),
      }),
      create(StartPasswordChallengeResponseSchema, { challengeId: "c", utk }),
    ]) {
      await expect(
        createPasswordAuthorization({ challenge, password: "pw", credential }),
      ).rejects.toThrow(TypeError);
    }
  });
});
