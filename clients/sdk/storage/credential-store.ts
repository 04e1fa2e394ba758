import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { equalBytes } from "@noble/curves/utils.js";
import {
  type ProteanCredential,
  ProteanCredentialSchema,
} from "../../../gen/vettid/vault/v1/credential_pb.js";
import type { SecureStorage } from "./secure-storage.js";

/** Prefix of the storage keys that hold credentials, one per CEK version. */
export const CREDENTIAL_KEY_PREFIX = "credential.v";

/**
 * How many credential versions are kept: the newest and the one before it. The vault accepts only
 * the newest; the previous one is kept until the next rotation so that a crash, a bug or a vault
 * that reports the older version as current (`StaleCredentialDetail.current_cek_version`) never
 * leaves the app without the credential the vault wants.
 */
export const DEFAULT_RETAINED_CREDENTIALS = 2;

/** Largest encrypted blob accepted (credential.proto: at most 16 KiB). */
export const MAX_CREDENTIAL_BLOB_BYTES = 16 * 1024;

/**
 * The member's Protean Credential on the device, crash-safe across CEK rotations.
 *
 * Each CEK version is stored under its own key (`credential.v00000000000000000007`), so writing
 * the rotated credential never overwrites the one before it:
 * 1. the new version is written (one atomic `SecureStorage.set`);
 * 2. versions older than the retained ones are deleted.
 * A crash before step 1 completes leaves the old credential only; after it, both are there and
 * the newest wins, because CEK versions only grow. Reads skip entries that fail to decode or
 * validate and fall back to the next newest.
 */
export interface CredentialStore {
  /** The newest stored credential, or undefined when there is none (not enrolled). */
  current(): Promise<ProteanCredential | undefined>;
  /** The stored credential of one CEK version, if it is still kept. */
  version(cekVersion: bigint): Promise<ProteanCredential | undefined>;
  /** Every readable stored credential, newest first. */
  all(): Promise<ProteanCredential[]>;
  /**
   * Stores a credential from enrollment or a rotation and makes it current. Storing the very
   * credential already stored is a no-op (a replayed response). Returns once it is durable.
   *
   * @throws Error when it is malformed, belongs to another identity, or is older than or
   *   conflicts with the current one.
   */
  save(credential: ProteanCredential): Promise<void>;
  /** Deletes every stored credential (the member signed out or was removed). */
  clear(): Promise<void>;
}

/** Options of {@link createCredentialStore}. */
export interface CredentialStoreOptions {
  /** Versions kept. Default {@link DEFAULT_RETAINED_CREDENTIALS}; at least 1. */
  readonly retain?: number;
}

/** A {@link CredentialStore} over any {@link SecureStorage}. */
export function createCredentialStore(
  storage: SecureStorage,
  options: CredentialStoreOptions = {},
): CredentialStore {
  const retain = options.retain ?? DEFAULT_RETAINED_CREDENTIALS;
  if (!Number.isSafeInteger(retain) || retain < 1) throw new TypeError("retain must be at least 1");

  /** Stored versions, newest first (from the keys alone). */
  const storedVersions = async (): Promise<bigint[]> => {
    const versions: bigint[] = [];
    for (const key of await storage.keys(CREDENTIAL_KEY_PREFIX)) {
      const digits = key.slice(CREDENTIAL_KEY_PREFIX.length);
      if (/^\d{20}$/.test(digits)) versions.push(BigInt(digits));
    }
    return versions.sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
  };

  const read = async (version: bigint): Promise<ProteanCredential | undefined> => {
    const bytes = await storage.get(credentialKey(version));
    if (bytes === undefined) return undefined;
    try {
      const credential = fromBinary(ProteanCredentialSchema, bytes);
      return credentialProblem(credential) === undefined && credential.cekVersion === version
        ? credential
        : undefined;
    } catch {
      return undefined;
    }
  };

  const store: CredentialStore = {
    async current() {
      for (const version of await storedVersions()) {
        const credential = await read(version);
        if (credential !== undefined) return credential;
      }
      return undefined;
    },
    async version(cekVersion) {
      return read(cekVersion);
    },
    async all() {
      const found: ProteanCredential[] = [];
      for (const version of await storedVersions()) {
        const credential = await read(version);
        if (credential !== undefined) found.push(credential);
      }
      return found;
    },
    async save(credential) {
      const problem = credentialProblem(credential);
      if (problem !== undefined) throw new Error(`credential refused: ${problem}`);
      const current = await store.current();
      const bytes = toBinary(ProteanCredentialSchema, credential);
      if (current !== undefined) {
        if (!equalBytes(current.identityPublicKey, credential.identityPublicKey)) {
          throw new Error("credential refused: it belongs to another identity key");
        }
        if (credential.cekVersion < current.cekVersion) {
          throw new Error(
            `credential refused: CEK version ${credential.cekVersion} is older than the stored ${current.cekVersion}`,
          );
        }
        if (credential.cekVersion === current.cekVersion) {
          if (equalBytes(toBinary(ProteanCredentialSchema, current), bytes)) return;
          throw new Error(
            `credential refused: another credential is stored for CEK version ${credential.cekVersion}`,
          );
        }
      }
      await storage.set(credentialKey(credential.cekVersion), bytes);
      const versions = await storedVersions();
      for (const old of versions.slice(retain)) await storage.delete(credentialKey(old));
    },
    async clear() {
      for (const version of await storedVersions()) await storage.delete(credentialKey(version));
    },
  };
  return store;
}

/** The storage key of one CEK version: fixed width, so keys sort as versions do. */
export function credentialKey(cekVersion: bigint): string {
  return `${CREDENTIAL_KEY_PREFIX}${cekVersion.toString().padStart(20, "0")}`;
}

/**
 * What is wrong with a credential received from the vault, or undefined: a non-empty blob of at
 * most 16 KiB, a key id, a CEK version ≥ 1, a 32-byte identity key.
 */
export function credentialProblem(credential: ProteanCredential): string | undefined {
  if (credential === undefined || credential === null) return "no credential";
  if (!(credential.encryptedBlob instanceof Uint8Array) || credential.encryptedBlob.length === 0) {
    return "encrypted_blob is empty";
  }
  if (credential.encryptedBlob.length > MAX_CREDENTIAL_BLOB_BYTES) {
    return `encrypted_blob is ${credential.encryptedBlob.length} bytes; at most ${MAX_CREDENTIAL_BLOB_BYTES}`;
  }
  if (credential.cekKeyId === "") return "cek_key_id is empty";
  if (credential.cekVersion < 1n || credential.cekVersion > 10n ** 19n)
    return "cek_version is not 1 or more";
  if (credential.identityPublicKey.length !== 32) return "identity_public_key is not 32 bytes";
  return undefined;
}
