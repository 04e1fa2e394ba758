import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { LRUCache } from "lru-cache";
import type { AttestationTrustStore } from "../../clients/sdk/attestation/index.js";
import {
  type CountersignatureVerify,
  ENCLAVE_KEY_ID_PATTERN,
  verifyEnclaveVoteKeyCertificate,
} from "../../clients/sdk/voting/index.js";
import { createEd25519KeyVerifier } from "../../clients/sdk/voting/node.js";
import type { BlobStore } from "../../enclave/storage/index.js";
import {
  type EnclaveVoteKeyCertificate,
  EnclaveVoteKeyCertificateSchema,
} from "../../gen/vettid/voting/v1/vote_pb.js";

/**
 * Enclave keys a process keeps verified: a thousand, far above the enclaves running at once
 * (each restart brings one new key), so the cache only ever drops keys of enclaves long gone.
 */
export const DEFAULT_ENCLAVE_KEY_CACHE_SIZE = 1000;

/** A verified enclave countersigning key. */
export interface TrustedEnclaveKey {
  readonly certificate: EnclaveVoteKeyCertificate;
  readonly verify: CountersignatureVerify;
}

/** What the intake learns about an enclave key. */
export type EnclaveKeyLookup =
  | { readonly kind: "trusted"; readonly key: TrustedEnclaveKey }
  | { readonly kind: "untrusted"; readonly problem: string }
  | { readonly kind: "unknown" };

/**
 * The enclave countersigning keys the backend has seen. Certificates that verify are kept as
 * blobs (`enclave-vote-keys/<key_id>`, written once), so every instance, and the publisher, can
 * find the certificate of a key a batch no longer carries; each process keeps the keys it
 * verified in memory. A certificate is checked again whenever it is loaded, so a stored one of an
 * enclave build no longer accepted stops being trusted.
 */
export interface EnclaveKeyStore {
  /** Verifies and, when valid, stores `certificate`; the lookup outcome for its key id. */
  offer(certificate: EnclaveVoteKeyCertificate): Promise<EnclaveKeyLookup>;
  /** The key with this id, from memory or storage. */
  lookup(keyId: string): Promise<EnclaveKeyLookup>;
  /** The stored certificate of a key (trusted or not today), for publication. */
  certificate(keyId: string): Promise<EnclaveVoteKeyCertificate | undefined>;
}

/** Blob key of an enclave key's certificate. */
export function enclaveKeyBlobKey(keyId: string): string {
  return `enclave-vote-keys/${keyId}.binpb`;
}

/** The enclave key store over `blobs`, trusting enclaves as `attestation` says. */
export function createEnclaveKeyStore(
  blobs: BlobStore,
  attestation: AttestationTrustStore,
  cacheSize = DEFAULT_ENCLAVE_KEY_CACHE_SIZE,
): EnclaveKeyStore {
  const cache = new LRUCache<string, EnclaveKeyLookup & { kind: "trusted" | "untrusted" }>({
    max: cacheSize,
  });
  const check = (
    certificate: EnclaveVoteKeyCertificate,
  ): EnclaveKeyLookup & { kind: "trusted" | "untrusted" } => {
    const verified = verifyEnclaveVoteKeyCertificate(certificate, attestation);
    if (!verified.ok) return { kind: "untrusted", problem: verified.problem };
    const verify = createEd25519KeyVerifier(verified.publicKey);
    if (verify === undefined)
      return { kind: "untrusted", problem: "the enclave key is not a usable Ed25519 key" };
    return { kind: "trusted", key: { certificate, verify } };
  };
  return {
    async offer(certificate) {
      if (!ENCLAVE_KEY_ID_PATTERN.test(certificate.keyId)) {
        return { kind: "untrusted", problem: "key_id is not 64 lowercase hex digits" };
      }
      const cached = cache.get(certificate.keyId);
      if (cached?.kind === "trusted") return cached;
      const outcome = check(certificate);
      if (outcome.kind === "trusted") {
        await blobs.put(
          enclaveKeyBlobKey(certificate.keyId),
          toBinary(EnclaveVoteKeyCertificateSchema, certificate),
          {
            mode: "create_only",
          },
        );
        cache.set(certificate.keyId, outcome);
      }
      return outcome;
    },
    async certificate(keyId) {
      const cached = cache.get(keyId);
      if (cached?.kind === "trusted") return cached.key.certificate;
      if (!ENCLAVE_KEY_ID_PATTERN.test(keyId)) return undefined;
      const stored = await blobs.get(enclaveKeyBlobKey(keyId));
      if (stored.outcome === "not_found") return undefined;
      try {
        return fromBinary(EnclaveVoteKeyCertificateSchema, stored.data);
      } catch {
        return undefined;
      }
    },
    async lookup(keyId) {
      if (!ENCLAVE_KEY_ID_PATTERN.test(keyId)) return { kind: "unknown" };
      const cached = cache.get(keyId);
      if (cached !== undefined) return cached;
      const stored = await blobs.get(enclaveKeyBlobKey(keyId));
      if (stored.outcome === "not_found") return { kind: "unknown" };
      let certificate: EnclaveVoteKeyCertificate;
      try {
        certificate = fromBinary(EnclaveVoteKeyCertificateSchema, stored.data);
      } catch {
        return { kind: "untrusted", problem: "the stored certificate does not decode" };
      }
      const outcome =
        certificate.keyId === keyId
          ? check(certificate)
          : ({ kind: "untrusted", problem: "stored under another key id" } as const);
      cache.set(keyId, outcome);
      return outcome;
    },
  };
}
