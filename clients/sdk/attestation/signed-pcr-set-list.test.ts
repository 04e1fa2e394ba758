import { create, toBinary } from "@bufbuild/protobuf";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { VerificationFailure } from "../../../gen/vettid/attestation/v1/document_pb.js";
import {
  type PcrSetList,
  PcrSetListSchema,
  PcrSetSchema,
  type SignedPcrSetList,
  SignedPcrSetListSchema,
} from "../../../gen/vettid/attestation/v1/pcr_pb.js";
import {
  type AcceptedPcrSets,
  pcrSetListSignedMessage,
  verifyAttestation,
  verifySignedPcrSetList,
} from "./index.js";
import { expectedPcrs, VECTOR_01 } from "./testing/vectors.js";

const NOW = VECTOR_01.verifyAtMs;
const OPERATOR = ed25519.keygen(new Uint8Array(32).fill(1));
const OTHER_OPERATOR = ed25519.keygen(new Uint8Array(32).fill(2));
const KEYS = { "ops-2026": OPERATOR.publicKey };

/** The build of document 01, as operators would publish it. */
function build01(id = "vault-enclave-2022.11.1") {
  const pcrs = expectedPcrs(VECTOR_01);
  return create(PcrSetSchema, {
    id,
    description: "the enclave that made document 01",
    pcrs: { 0: pcrs[0] as Uint8Array, 1: pcrs[1] as Uint8Array, 2: pcrs[2] as Uint8Array },
  });
}

function list(sequence: bigint, init: Partial<PcrSetList> = {}): PcrSetList {
  return create(PcrSetListSchema, {
    sequence,
    issuedAtMs: BigInt(NOW - 86_400_000),
    expiresAtMs: BigInt(NOW + 30 * 86_400_000),
    sets: [build01()],
    ...init,
  });
}

/** Signs a list's exact bytes the way pcr.proto says operators do. */
function sign(
  listBytes: Uint8Array,
  secretKey = OPERATOR.secretKey,
  keyId = "ops-2026",
): SignedPcrSetList {
  return create(SignedPcrSetListSchema, {
    pcrSetList: listBytes,
    signature: ed25519.sign(pcrSetListSignedMessage(listBytes), secretKey),
    keyId,
  });
}

function signList(pcrSetList: PcrSetList, secretKey = OPERATOR.secretKey, keyId = "ops-2026") {
  return sign(toBinary(PcrSetListSchema, pcrSetList), secretKey, keyId);
}

function accepted(signed: SignedPcrSetList, current?: AcceptedPcrSets): AcceptedPcrSets {
  const result = verifySignedPcrSetList(signed, KEYS, { at: NOW, current });
  if (!result.ok) throw new Error(`refused: ${result.refusal} ${result.detail}`);
  return result.accepted;
}

function refusal(signed: SignedPcrSetList | Uint8Array, current?: AcceptedPcrSets) {
  let result: ReturnType<typeof verifySignedPcrSetList> | undefined;
  expect(() => {
    result = verifySignedPcrSetList(signed, KEYS, { at: NOW, current });
  }).not.toThrow();
  return result?.ok === false ? result.refusal : "accepted";
}

describe("the signed message", () => {
  it('is "vettid-pcr-set-list-v1" || 0x00 || the list bytes, exactly', () => {
    const bytes = Uint8Array.of(1, 2, 3);
    expect(bytesToHex(pcrSetListSignedMessage(bytes))).toBe(
      `${bytesToHex(new TextEncoder().encode("vettid-pcr-set-list-v1"))}00010203`,
    );
  });
});

describe("verifySignedPcrSetList", () => {
  it("accepts a list signed by a pinned operator and returns its sets", () => {
    const result = verifySignedPcrSetList(signList(list(7n)), KEYS, { at: NOW });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.accepted.sequence).toBe(7n);
    expect(result.accepted.sets.map((set) => set.id)).toEqual(["vault-enclave-2022.11.1"]);
    expect(result.accepted.expiresAtMs).toBe(NOW + 30 * 86_400_000);
    expect(result.unchanged).toBe(false);
  });

  it("accepts it as binary, and with the keys as a Map", () => {
    const binary = toBinary(SignedPcrSetListSchema, signList(list(7n)));
    const keys = new Map([["ops-2026", OPERATOR.publicKey]]);
    expect(verifySignedPcrSetList(binary, keys, { at: NOW }).ok).toBe(true);
  });

  it("gives sets that documents then match (and reports the set)", () => {
    const sets = accepted(signList(list(7n)));
    const result = verifyAttestation(VECTOR_01.raw, {
      at: NOW,
      maxAgeMs: 10 * 60_000,
      pcrSets: sets,
    });
    expect(result.valid).toBe(true);
    expect(result.matchedPcrSetId).toBe("vault-enclave-2022.11.1");
  });

  it("refuses a signature over the list without the domain label, or without the 0x00", () => {
    const listBytes = toBinary(PcrSetListSchema, list(7n));
    const label = new TextEncoder().encode("vettid-pcr-set-list-v1");
    for (const message of [listBytes, Uint8Array.of(...label, ...listBytes)]) {
      const signed = create(SignedPcrSetListSchema, {
        pcrSetList: listBytes,
        signature: ed25519.sign(message, OPERATOR.secretKey),
        keyId: "ops-2026",
      });
      expect(refusal(signed)).toBe("bad_signature");
    }
  });

  it("refuses a list signed by another key under a pinned key id", () => {
    expect(refusal(signList(list(7n), OTHER_OPERATOR.secretKey))).toBe("bad_signature");
  });

  it("refuses an unknown key id, including names an object inherits", () => {
    for (const keyId of ["ops-2025", "", "__proto__", "constructor", "toString"]) {
      expect(refusal(signList(list(7n), OPERATOR.secretKey, keyId))).toBe("unknown_key");
    }
  });

  it("refuses changed list bytes, and a signature of the wrong length or value", () => {
    const signed = signList(list(7n));
    const tampered = signed.pcrSetList.slice();
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    expect(refusal({ ...signed, pcrSetList: tampered })).toBe("bad_signature");
    expect(refusal({ ...signed, signature: signed.signature.subarray(0, 63) })).toBe(
      "bad_signature",
    );
    expect(refusal({ ...signed, signature: new Uint8Array(64) })).toBe("bad_signature");
  });

  it("refuses a non-canonical signature (s + L), which RFC 8032 forbids", () => {
    const signed = signList(list(7n));
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    const s = BigInt(`0x${bytesToHex(signed.signature.slice(32).reverse())}`);
    const malleated = hexToBytes((s + L).toString(16).padStart(64, "0")).reverse();
    expect(
      refusal({
        ...signed,
        signature: Uint8Array.of(...signed.signature.subarray(0, 32), ...malleated),
      }),
    ).toBe("bad_signature");
  });

  it("refuses an older sequence than the one accepted; accepts a newer one", () => {
    const current = accepted(signList(list(7n)));
    expect(refusal(signList(list(6n)), current)).toBe("older_sequence");
    expect(refusal(signList(list(0n)), current)).toBe("older_sequence");
    expect(refusal(signList(list(8n)), current)).toBe("accepted");
  });

  it("accepts the same list again (unchanged) but not other contents under the same sequence", () => {
    const signed = signList(list(7n));
    const current = accepted(signed);
    const again = verifySignedPcrSetList(signed, KEYS, { at: NOW, current });
    expect(again.ok && again.unchanged).toBe(true);
    const other = signList(list(7n, { sets: [build01("another-id")] }));
    expect(refusal(other, current)).toBe("conflicting_sequence");
  });

  it("refuses a list that has expired; a list without expiry never does", () => {
    expect(refusal(signList(list(7n, { expiresAtMs: BigInt(NOW - 1) })))).toBe("expired");
    const endless = accepted(signList(list(7n, { expiresAtMs: 0n })));
    expect(endless.expiresAtMs).toBeUndefined();
  });

  it("documents fail PCR_LIST_INVALID once the accepted list has expired", () => {
    const sets = accepted(signList(list(7n, { expiresAtMs: BigInt(NOW + 1000) })));
    const at = NOW + 2000;
    const result = verifyAttestation(VECTOR_01.raw, { at, maxAgeMs: 10 * 60_000, pcrSets: sets });
    expect(result.failure).toBe(VerificationFailure.PCR_LIST_INVALID);
  });

  it("refuses signed bytes that are not a usable PcrSetList", () => {
    const pcrs = expectedPcrs(VECTOR_01);
    const noPcr2 = create(PcrSetSchema, {
      id: "x",
      pcrs: { 0: pcrs[0] as Uint8Array, 1: pcrs[1] as Uint8Array },
    });
    const shortPcr = create(PcrSetSchema, {
      id: "x",
      pcrs: { ...build01().pcrs, 1: new Uint8Array(32) },
    });
    const highIndex = create(PcrSetSchema, {
      id: "x",
      pcrs: { ...build01().pcrs, 32: new Uint8Array(48) },
    });
    const noId = build01("");
    const backwards = build01();
    backwards.validFromMs = 10n;
    backwards.validUntilMs = 5n;
    for (const sets of [
      [noPcr2],
      [shortPcr],
      [highIndex],
      [noId],
      [backwards],
      [build01(), build01()],
    ]) {
      expect(refusal(signList(list(7n, { sets })))).toBe("invalid_list");
    }
    expect(refusal(sign(Uint8Array.of(0xff, 0xff, 0xff)))).toBe("invalid_list");
    expect(refusal(signList(list(7n, { issuedAtMs: -1n })))).toBe("invalid_list");
  });

  it("refuses malformed input without throwing", () => {
    expect(refusal(new Uint8Array(0))).toBe("unknown_key"); // an empty message: no key id
    expect(refusal(Uint8Array.of(0x0a, 0xff))).toBe("malformed");
    expect(refusal(new Uint8Array(70_000))).toBe("malformed");
    expect(refusal({ keyId: 5 } as unknown as SignedPcrSetList)).toBe("malformed");
    expect(refusal(null as unknown as SignedPcrSetList)).toBe("malformed");
  });

  it("throws TypeError for an operator key that is not 32 bytes (configuration, not input)", () => {
    expect(() => verifySignedPcrSetList(signList(list(7n)), { k: new Uint8Array(31) })).toThrow(
      TypeError,
    );
    expect(() => verifySignedPcrSetList(signList(list(7n)), KEYS, { at: Number.NaN })).toThrow(
      TypeError,
    );
  });
});
