import { sign } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { ed25519 } from "@noble/curves/ed25519.js";
import { decode, Tag } from "cbor2";
import {
  ENCLAVE_VOTE_KEY_USER_DATA,
  enclaveKeyId,
  signedMessage,
  VOTE_COUNTERSIGNATURE_CONTEXT,
} from "../../clients/sdk/voting/index.js";
import {
  type EnclaveVoteKeyCertificate,
  EnclaveVoteKeyCertificateSchema,
} from "../../gen/vettid/voting/v1/vote_pb.js";
import type { Nsm } from "../nsm/index.js";
import { ED25519_SEED_BYTES, ed25519KeyFromSeed, ed25519PublicKey } from "./voting-key.js";

/** The enclave's vote countersigning key and the certificate that binds it to an attestation. */
export interface EnclaveVoteCountersigner {
  /** Lowercase hex SHA-256 of the public key: SignedVote.enclave_key_id. */
  readonly keyId: string;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** Sent with every batch this key countersigned (SubmitVotesRequest.countersigning_keys). */
  readonly certificate: EnclaveVoteKeyCertificate;
  /**
   * Ed25519(enclave key, "vettid-vote-countersig-v1" || 0x00 || payload): the enclave's word that
   * attested vault code checked the member's password, subscription and identity.
   */
  countersign(payload: Uint8Array): Uint8Array;
}

/**
 * Certifies an enclave vote countersigning key and returns the countersigner.
 *
 * The binding (vote.proto, EnclaveVoteKeyCertificate): the NSM issues an attestation document
 * whose `public_key` field is the raw 32-byte Ed25519 public key and whose `user_data` field is
 * exactly the 25 ASCII bytes "vettid-vote-countersig-v1" (the countersignature's own context, so
 * a document made for another purpose, such as the sealing key's, cannot certify a vote key).
 * The certificate carries the document untouched, key_id = hex SHA-256(public key), and the
 * document's timestamp, at which verifiers check it (its certificates live three hours; the key
 * lives as long as the enclave runs).
 *
 * `seed` is the private key (32 bytes), made by the caller at enclave start-up from the enclave's
 * CSPRNG and never stored or sent anywhere; default: a fresh one. The countersigner keeps it as a
 * node:crypto key object (OpenSSL signs: about ten times noble's speed here).
 */
export async function createEnclaveVoteCountersigner(
  nsm: Pick<Nsm, "attest">,
  seed: Uint8Array = ed25519.utils.randomSecretKey(),
): Promise<EnclaveVoteCountersigner> {
  if (!(seed instanceof Uint8Array) || seed.length !== ED25519_SEED_BYTES) {
    throw new TypeError("the enclave countersigning key must be a 32-byte Ed25519 seed");
  }
  const privateKey = ed25519KeyFromSeed(seed);
  const publicKey = ed25519PublicKey(privateKey);
  const document = await nsm.attest({ publicKey, userData: ENCLAVE_VOTE_KEY_USER_DATA });
  const keyId = enclaveKeyId(publicKey);
  const certificate = create(EnclaveVoteKeyCertificateSchema, {
    keyId,
    publicKey,
    attestationDocument: document,
    attestedAtMs: documentTimestamp(document),
  });
  return {
    keyId,
    publicKey,
    certificate,
    countersign(payload) {
      return new Uint8Array(
        sign(null, signedMessage(VOTE_COUNTERSIGNATURE_CONTEXT, payload), privateKey),
      );
    },
  };
}

/** The `timestamp` of an attestation document the NSM just made (trusted input: our own NSM). */
function documentTimestamp(document: Uint8Array): bigint {
  let top = decode(new Uint8Array(document));
  if (top instanceof Tag) top = top.contents;
  const payloadBytes = Array.isArray(top) ? top[2] : undefined;
  if (!(payloadBytes instanceof Uint8Array))
    throw new Error("the NSM's document is not a COSE_Sign1");
  const payload = decode(payloadBytes, { preferMap: true });
  const timestamp = payload instanceof Map ? payload.get("timestamp") : undefined;
  if (typeof timestamp !== "number" && typeof timestamp !== "bigint") {
    throw new Error("the NSM's document has no timestamp");
  }
  return BigInt(timestamp);
}
