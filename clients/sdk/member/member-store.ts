import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type NatsCredentials,
  NatsCredentialsSchema,
} from "../../../gen/vettid/enrollment/v1/nats_credentials_pb.js";
import {
  ReplenishUtksResponseSchema,
  type UserTransactionKey,
} from "../../../gen/vettid/vault/v1/credential_pb.js";
import { type CredentialStore, createCredentialStore } from "../storage/credential-store.js";
import type { SecureStorage } from "../storage/secure-storage.js";

/** Storage keys of what a member's device keeps besides the credential. */
export const MEMBER_KEYS = {
  /** The owner guid, UTF-8. */
  ownerGuid: "member.owner-guid",
  /** The NATS user JWT and how to connect (`NatsCredentials`, protobuf binary). */
  natsCredentials: "member.nats-credentials",
  /** The NATS user nkey seed (`SU…`), UTF-8. Never leaves the device. */
  nkeySeed: "member.nkey-seed",
  /** The device key's 32-byte P-256 secret, for software device keys only (Node). */
  deviceKey: "member.device-key",
  /** The app's copy of the unused UTK pool (`ReplenishUtksResponse.utks`, protobuf binary). */
  utkPool: "member.utk-pool",
  /** This installation's device id (a random UUID made once), UTF-8 (BootstrapRequest.device). */
  deviceId: "member.device-id",
  /** The X25519 secret the vault seals push events to (BootstrapRequest.event_public_key). */
  eventKey: "member.event-key",
} as const;

/** What a member's device keeps, over one {@link SecureStorage}. */
export interface MemberStore {
  readonly storage: SecureStorage;
  /** The Protean Credential, crash-safe across rotations. */
  readonly credentials: CredentialStore;
  ownerGuid(): Promise<string | undefined>;
  natsCredentials(): Promise<NatsCredentials | undefined>;
  nkeySeed(): Promise<Uint8Array | undefined>;
  deviceKeySecret(): Promise<Uint8Array | undefined>;
  utkPool(): Promise<UserTransactionKey[]>;
  /** Stores what enrollment produced; the owner guid last, so its presence means "enrolled". */
  saveEnrollment(enrollment: {
    readonly ownerGuid: string;
    readonly natsCredentials: NatsCredentials;
    readonly nkeySeed: Uint8Array;
  }): Promise<void>;
  saveNatsCredentials(credentials: NatsCredentials): Promise<void>;
  saveDeviceKeySecret(secret: Uint8Array): Promise<void>;
  saveUtkPool(utks: readonly UserTransactionKey[]): Promise<void>;
  /** Removes everything (sign out). */
  clear(): Promise<void>;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A {@link MemberStore} over `storage`. */
export function createMemberStore(storage: SecureStorage): MemberStore {
  const credentials = createCredentialStore(storage);
  return {
    storage,
    credentials,
    async ownerGuid() {
      const bytes = await storage.get(MEMBER_KEYS.ownerGuid);
      return bytes === undefined ? undefined : decoder.decode(bytes);
    },
    async natsCredentials() {
      const bytes = await storage.get(MEMBER_KEYS.natsCredentials);
      return bytes === undefined ? undefined : fromBinary(NatsCredentialsSchema, bytes);
    },
    nkeySeed: () => storage.get(MEMBER_KEYS.nkeySeed),
    deviceKeySecret: () => storage.get(MEMBER_KEYS.deviceKey),
    async utkPool() {
      const bytes = await storage.get(MEMBER_KEYS.utkPool);
      return bytes === undefined ? [] : fromBinary(ReplenishUtksResponseSchema, bytes).utks;
    },
    async saveEnrollment(enrollment) {
      await storage.set(MEMBER_KEYS.nkeySeed, enrollment.nkeySeed);
      await storage.set(
        MEMBER_KEYS.natsCredentials,
        toBinary(NatsCredentialsSchema, enrollment.natsCredentials),
      );
      await storage.set(MEMBER_KEYS.ownerGuid, encoder.encode(enrollment.ownerGuid));
    },
    async saveNatsCredentials(natsCredentials) {
      await storage.set(
        MEMBER_KEYS.natsCredentials,
        toBinary(NatsCredentialsSchema, natsCredentials),
      );
    },
    async saveDeviceKeySecret(secret) {
      await storage.set(MEMBER_KEYS.deviceKey, secret);
    },
    async saveUtkPool(utks) {
      await storage.set(
        MEMBER_KEYS.utkPool,
        toBinary(
          ReplenishUtksResponseSchema,
          create(ReplenishUtksResponseSchema, { utks: [...utks] }),
        ),
      );
    },
    async clear() {
      await credentials.clear();
      for (const key of Object.values(MEMBER_KEYS)) await storage.delete(key);
    },
  };
}
