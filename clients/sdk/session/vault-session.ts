import type { DescService } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import type { Client, Interceptor, Transport } from "@connectrpc/connect";
import { x25519 } from "@noble/curves/ed25519.js";
import type { NatsConnection } from "nats";
import {
  type BootstrapResponse,
  BootstrapService,
  DeviceInfoSchema,
  DevicePlatform,
} from "../../../gen/vettid/vault/v1/bootstrap_pb.js";
import {
  CredentialService,
  type PasswordAuthorization,
  type ProteanCredential,
  type RotatedCredential,
  type UserTransactionKey,
} from "../../../gen/vettid/vault/v1/credential_pb.js";
import {
  type LockVaultResponse,
  PinService,
  type SetupPinResponse,
  type UnlockVaultResponse,
} from "../../../gen/vettid/vault/v1/pin_pb.js";
import { StatusService, type VaultStatus } from "../../../gen/vettid/vault/v1/status_pb.js";
import {
  createNatsTransport,
  createRequestSealer,
  createRpcClient,
  type RequestSealer,
} from "../../../rpc/index.js";
import type { AttestationTrustStore } from "../attestation/index.js";
import { MEMBER_KEYS, type MemberStore } from "../member/member-store.js";
import { createPasswordAuthorization, createPasswordSetup } from "../password/password-proofs.js";
import { type AttestedEnclaveKey, fetchAttestedEnclaveKey } from "./enclave-key.js";
import { isLostReplyError, isStaleEnclaveKeyError, staleCredentialDetail } from "./vault-errors.js";

/**
 * Deadline of vault calls that give none: 15 s. A cold vault loads and unseals its snapshot on
 * the first call (a second or two); the rest is for mobile networks.
 */
export const DEFAULT_VAULT_CALL_TIMEOUT_MS = 15_000;

/** Size of the UTK pool the SDK asks for (the vault's maximum, credential.proto). */
export const DEFAULT_UTK_POOL_SIZE = 20;

/**
 * Below this many unused UTKs in the app's pool, a sensitive operation refills it afterwards:
 * each sensitive operation uses one, a password change two, so five leaves room for a few
 * operations while offline from a refill.
 */
export const DEFAULT_UTK_REFILL_BELOW = 5;

/** A PIN: exactly 6 ASCII digits (pin.proto). */
const PIN = /^[0-9]{6}$/;

/** Options of {@link openVaultSession}. */
export interface VaultSessionOptions {
  /** The member's NATS connection ({@link connectMember}); the caller owns it. */
  readonly connection: NatsConnection;
  /** Where the credential, UTK pool and device ids are kept. */
  readonly member: MemberStore;
  /** What the app trusts when it verifies the enclave's attestation. */
  readonly trust: AttestationTrustStore;
  /** The member's guid. Default: the one stored in `member`. */
  readonly ownerGuid?: string;
  /** Deadline of calls that give none, ms. Default {@link DEFAULT_VAULT_CALL_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** Clock for attestation checks, ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  /** Called while the password is hashed (Argon2id), with the fraction done. */
  readonly onHashProgress?: (fraction: number) => void;
  /** Called for problems the session handles itself (a failed UTK refill), for logs. */
  readonly onProblem?: (problem: string) => void;
  /** What the app reports about itself in Bootstrap. */
  readonly device?: {
    readonly appVersion?: string;
    readonly osVersion?: string;
    readonly model?: string;
  };
}

/** A response of a sensitive operation: it may carry the credential the CEK rotation produced. */
export interface MaybeRotated {
  readonly rotatedCredential?: RotatedCredential | undefined;
}

/**
 * A member's session with their vault: NATS with the member's credentials, the enclave's attested
 * key, and sealed typed calls. See {@link openVaultSession}.
 */
export interface VaultSession {
  readonly ownerGuid: string;
  readonly connection: NatsConnection;
  /** The attested enclave key calls are sealed to now (it changes after a re-attestation). */
  readonly enclave: AttestedEnclaveKey;
  /**
   * The sealed NATS transport to the vault, for `createClient(SecretsService, session.transport)`
   * (what {@link VaultSession.client} does, with cancellation on early `break` added).
   */
  readonly transport: Transport;
  /**
   * A typed client for any vault service (`session.client(SecretsService).listSecrets({})`): calls
   * are sealed to the attested key, and re-attested once if the enclave restarted meanwhile.
   */
  client<S extends DescService>(service: S): Client<S>;
  /** Fetches and verifies a fresh attestation and seals later calls to its key. */
  reattest(): Promise<AttestedEnclaveKey>;
  /** BootstrapService.Bootstrap: the vault's state and next step; stores the UTKs it hands out. */
  bootstrap(): Promise<BootstrapResponse>;
  /** PinService.SetupPin, for a new vault. @throws TypeError for a PIN that is not 6 digits. */
  setupPin(pin: string): Promise<SetupPinResponse>;
  /** PinService.UnlockVault; a wrong PIN is a result, not an error. @throws TypeError for a malformed PIN. */
  unlock(pin: string): Promise<UnlockVaultResponse>;
  /** PinService.LockVault. */
  lock(): Promise<LockVaultResponse>;
  /** StatusService.GetVaultStatus. */
  status(): Promise<VaultStatus>;
  /**
   * Runs one sensitive operation with the password, and handles the CEK rotation it causes:
   * 1. StartPasswordChallenge(`procedure`) → challenge, UTK, Argon2id parameters;
   * 2. the PasswordAuthorization (hash encrypted to the UTK, the current credential);
   * 3. `call(authorization)`; a lost reply is retried once with the identical request, which
   *    the vault answers with the same response;
   * 4. the response's RotatedCredential is stored (atomically, crash-safe) before returning.
   * If the vault says the credential is stale and the store holds the version it wants, the
   * operation is tried once more with that one.
   *
   * @param procedure the Connect path, e.g. "/vettid.vault.v1.SecretsService/GetSecret".
   */
  withPassword<R extends MaybeRotated>(
    procedure: string,
    password: string,
    call: (authorization: PasswordAuthorization) => Promise<R>,
  ): Promise<R>;
  /** CredentialService.RotateCek with the password; returns the new credential (already stored). */
  rotateCek(password: string): Promise<ProteanCredential>;
  /** CredentialService.ChangePassword; returns the new credential (already stored). */
  changePassword(currentPassword: string, newPassword: string): Promise<ProteanCredential>;
  /** CredentialService.ReplenishUtks: fills the vault's pool to `count` and stores the app's copy. */
  replenishUtks(count?: number): Promise<UserTransactionKey[]>;
}

/**
 * Opens a vault session for an enrolled member:
 * 1. fetch the enclave's attestation on the member's own subject with a fresh nonce, verify it
 *    and take its X25519 key ({@link fetchAttestedEnclaveKey});
 * 2. build the NATS transport with `subjectValues: { owner_guid }` and `sealing` to that key;
 * 3. hand out typed clients over it; a call refused because the enclave restarted (its key is
 *    gone) re-attests and is retried once.
 */
export async function openVaultSession(options: VaultSessionOptions): Promise<VaultSession> {
  const { connection, member } = options;
  const ownerGuid = options.ownerGuid ?? (await member.ownerGuid());
  if (ownerGuid === undefined) throw new Error("not enrolled: no owner guid stored");
  const onProblem = options.onProblem ?? (() => {});
  const timeoutMs = options.timeoutMs ?? DEFAULT_VAULT_CALL_TIMEOUT_MS;
  const attest = () =>
    fetchAttestedEnclaveKey(connection, ownerGuid, options.trust, {
      timeoutMs,
      ...(options.now === undefined ? {} : { now: options.now }),
    });

  let enclave = await attest();
  let sealer = createRequestSealer(enclave.publicKey);
  let reattesting: Promise<AttestedEnclaveKey> | undefined;
  const reattest = () => {
    reattesting ??= attest()
      .then((fresh) => {
        enclave = fresh;
        sealer = createRequestSealer(fresh.publicKey);
        return fresh;
      })
      .finally(() => {
        reattesting = undefined;
      });
    return reattesting;
  };
  const sealing: RequestSealer = {
    seal: (subject, kind, content) => sealer.seal(subject, kind, content),
  };
  const retryOnStaleKey: Interceptor = (next) => async (request) => {
    try {
      return await next(request);
    } catch (error) {
      if (request.stream || !isStaleEnclaveKeyError(error)) throw error;
      await reattest();
      return await next(request);
    }
  };
  const transport = createNatsTransport({
    connection,
    subjectValues: { owner_guid: ownerGuid },
    sealing,
    interceptors: [retryOnStaleKey],
    defaultTimeoutMs: timeoutMs,
  });
  const clients = new Map<DescService, Client<DescService>>();
  const client = <S extends DescService>(service: S): Client<S> => {
    let existing = clients.get(service);
    if (existing === undefined) {
      existing = createRpcClient(service, transport) as Client<DescService>;
      clients.set(service, existing);
    }
    return existing as Client<S>;
  };
  const hashProgress =
    options.onHashProgress === undefined ? {} : { onProgress: options.onHashProgress };

  const acceptRotation = async (rotated: RotatedCredential | undefined) => {
    if (rotated?.credential === undefined) return;
    await member.credentials.save(rotated.credential);
  };

  const replenishUtks = async (count = DEFAULT_UTK_POOL_SIZE) => {
    const { utks } = await client(CredentialService).replenishUtks({ count });
    await member.saveUtkPool(utks);
    return utks;
  };

  const dropFromPool = async (utkId: string) => {
    const pool = await member.utkPool();
    const rest = pool.filter((utk) => utk.utkId !== utkId);
    if (rest.length !== pool.length) await member.saveUtkPool(rest);
    return rest.length;
  };

  const session: VaultSession = {
    ownerGuid,
    connection,
    transport,
    get enclave() {
      return enclave;
    },
    client,
    reattest,
    async bootstrap() {
      const response = await client(BootstrapService).bootstrap({
        device: create(DeviceInfoSchema, {
          deviceId: await deviceId(member),
          platform: DevicePlatform.OTHER,
          appVersion: options.device?.appVersion ?? "0.1.0",
          osVersion: options.device?.osVersion ?? process.version,
          model: options.device?.model ?? "",
        }),
        eventPublicKey: await eventPublicKey(member),
      });
      if (response.utks.length > 0) await member.saveUtkPool(response.utks);
      return response;
    },
    async setupPin(pin) {
      return client(PinService).setupPin({ pin: checkPin(pin) });
    },
    async unlock(pin) {
      return client(PinService).unlockVault({ pin: checkPin(pin) });
    },
    async lock() {
      return client(PinService).lockVault({});
    },
    async status() {
      const { status } = await client(StatusService).getVaultStatus({});
      if (status === undefined) throw new Error("the vault sent no status");
      return status;
    },
    async withPassword<R extends MaybeRotated>(
      procedure: string,
      password: string,
      call: (authorization: PasswordAuthorization) => Promise<R>,
    ): Promise<R> {
      let preferred: ProteanCredential | undefined;
      for (let attempt = 0; ; attempt++) {
        const credential = preferred ?? (await member.credentials.current());
        if (credential === undefined) throw new Error("no credential stored: enroll first");
        const challenge = await client(CredentialService).startPasswordChallenge({
          operation: procedure,
        });
        const left = await dropFromPool(challenge.utk?.utkId ?? "");
        const authorization = await createPasswordAuthorization({
          challenge,
          password,
          credential,
          ...hashProgress,
        });
        let response: R;
        try {
          response = await callOnceMore(() => call(authorization));
        } catch (error) {
          const stale = staleCredentialDetail(error);
          if (stale !== undefined && attempt === 0) {
            preferred = await member.credentials.version(stale.currentCekVersion);
            if (preferred !== undefined) continue;
          }
          throw error;
        }
        await acceptRotation(response.rotatedCredential);
        if (left < DEFAULT_UTK_REFILL_BELOW) {
          await replenishUtks().catch((error: unknown) =>
            onProblem(`UTK refill failed: ${String(error)}`),
          );
        }
        return response;
      }
    },
    async rotateCek(password) {
      const response = await session.withPassword(
        "/vettid.vault.v1.CredentialService/RotateCek",
        password,
        (authorization) => client(CredentialService).rotateCek({ authorization }),
      );
      return requireRotated(response.rotatedCredential);
    },
    async changePassword(currentPassword, newPassword) {
      const response = await session.withPassword(
        "/vettid.vault.v1.CredentialService/ChangePassword",
        currentPassword,
        async (authorization) => {
          let pool = (await member.utkPool()).filter((utk) => utk.utkId !== authorization.utkId);
          if (pool.length === 0)
            pool = (await replenishUtks()).filter((utk) => utk.utkId !== authorization.utkId);
          const utk = pool[0];
          if (utk === undefined) throw new Error("the vault has no UTK for the new password");
          const newPasswordSetup = await createPasswordSetup({
            utk,
            password: newPassword,
            ...hashProgress,
          });
          await dropFromPool(utk.utkId);
          return client(CredentialService).changePassword({
            authorization,
            newPassword: newPasswordSetup,
          });
        },
      );
      return requireRotated(response.rotatedCredential);
    },
    replenishUtks,
  };
  return session;
}

/** Calls `call`; when the reply was lost (unavailable, deadline), sends the same request once more. */
async function callOnceMore<R>(call: () => Promise<R>): Promise<R> {
  try {
    return await call();
  } catch (error) {
    if (!isLostReplyError(error)) throw error;
    return await call();
  }
}

function checkPin(pin: string): string {
  if (typeof pin !== "string" || !PIN.test(pin)) throw new TypeError("a PIN is exactly 6 digits");
  return pin;
}

function requireRotated(rotated: RotatedCredential | undefined): ProteanCredential {
  if (rotated?.credential === undefined)
    throw new Error("the vault did not return the rotated credential");
  return rotated.credential;
}

/** This installation's device id, made once. */
async function deviceId(member: MemberStore): Promise<string> {
  const stored = await member.storage.get(MEMBER_KEYS.deviceId);
  if (stored !== undefined) return new TextDecoder().decode(stored);
  const id = crypto.randomUUID();
  await member.storage.set(MEMBER_KEYS.deviceId, new TextEncoder().encode(id));
  return id;
}

/** The public half of the push-event key, its secret made once and kept in storage. */
async function eventPublicKey(member: MemberStore): Promise<Uint8Array> {
  let secret = await member.storage.get(MEMBER_KEYS.eventKey);
  if (secret === undefined) {
    secret = x25519.utils.randomSecretKey();
    await member.storage.set(MEMBER_KEYS.eventKey, secret);
  }
  return x25519.getPublicKey(secret);
}
