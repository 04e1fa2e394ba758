/**
 * One member's vault inside the enclave (the vault-manager's state): its record in storage, the
 * PIN attempt counter, and — while unlocked — its SQLite database and DEK.
 *
 * The durability rule lives here: every change goes through {@link Vault.commit} or
 * {@link Vault.writeState}, which store the whole sealed record with a conditional put and
 * resolve only once the store says it is durable. Callers reply to the member after that.
 * A failed write poisons the vault object (`broken`): the supervisor drops it, and the next call
 * reloads the last durable record, so memory never runs ahead of storage.
 */

import { createHash, randomBytes } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { equalBytes } from "@noble/ciphers/utils.js";
import {
  type VaultState as StoredState,
  type VaultRecord,
  VaultRecordSchema,
  VaultStateSchema,
} from "../../gen/vettid/enclave/v1/vault_record_pb.js";
import {
  type PinAttemptState,
  PinAttemptStateSchema,
  VaultState,
} from "../../gen/vettid/vault/v1/common_pb.js";
import { VaultLockedDetailSchema } from "../../gen/vettid/vault/v1/errors_pb.js";
import type { Nsm } from "../nsm/index.js";
import type { BlobStore } from "../storage/index.js";
import {
  boundAad,
  DATABASE_AAD_LABEL,
  deriveDek,
  deriveRecordKey,
  open,
  RECORD_KEY_LABEL,
  seal,
  VAULT_KEY_BYTES,
} from "./vault-crypto.js";
import {
  createVaultDatabase,
  openVaultDatabase,
  serializeVaultDatabase,
  type VaultDatabase,
} from "./vault-database.js";

/** Format number of {@link VaultRecord}. */
export const VAULT_RECORD_FORMAT = 1;
/** Wrong PINs allowed before a lockout. */
export const MAX_PIN_ATTEMPTS = 3;
/** Length of a PIN lockout: one hour, as the design documents fix it. */
export const PIN_LOCKOUT_MS = 60 * 60 * 1000;
const PIN_PATTERN = /^[0-9]{6}$/;
/**
 * Database images up to this size stay inside the record (one put per write); larger ones are
 * stored apart so that PIN attempts and lockouts rewrite only the small record.
 */
export const INLINE_DATABASE_MAX_BYTES = 64 * 1024;

/** The storage key of a vault's record. */
export function vaultRecordKey(ownerGuid: string): string {
  return `vaults/${ownerGuid}`;
}

/** The storage key of a database image stored apart. */
export function vaultDatabaseKey(ownerGuid: string, databaseVersion: bigint): string {
  return `vaults/${ownerGuid}.db/${databaseVersion}`;
}

/**
 * The newest record generation seen per vault since the enclave started. Kept for every vault
 * ever loaded (evicted ones too: 40-odd bytes each), so the parent cannot hand an older record
 * back after an eviction. See docs/security.md for what a full enclave restart means for it.
 */
export interface FreshnessLedger {
  highest(ownerGuid: string): bigint | undefined;
  raise(ownerGuid: string, generation: bigint): void;
}

/** An in-memory {@link FreshnessLedger}. */
export function createFreshnessLedger(): FreshnessLedger {
  const generations = new Map<string, bigint>();
  return {
    highest: (ownerGuid) => generations.get(ownerGuid),
    raise(ownerGuid, generation) {
      const current = generations.get(ownerGuid);
      if (current === undefined || generation > current) generations.set(ownerGuid, generation);
    },
  };
}

/** What a vault needs from the enclave around it. */
export interface VaultEnvironment {
  /** Seals and unseals the per-vault material (KMS with attestation in production). */
  readonly nsm: Nsm;
  /** The parent's storage (over vsock in the enclave). */
  readonly store: BlobStore;
  /** Rollback protection across evictions. */
  readonly freshness: FreshnessLedger;
  /** Clock (ms since epoch), injectable for lockout tests. */
  readonly now: () => number;
}

/** Why a stored record was refused. */
export type VaultLoadRefusal = "rolled_back" | "tampered" | "foreign";

/** A stored record that must not be loaded. Never silently ignored: the call fails with it. */
export class VaultLoadError extends ConnectError {
  constructor(
    readonly refusal: VaultLoadRefusal,
    message: string,
  ) {
    // The name stays "ConnectError": Connect recognises its errors by name and shape.
    super(message, Code.DataLoss);
  }
}

/** Result of a PIN check. */
export type PinCheck = "accepted" | "wrong_pin" | "locked_out";

export class Vault {
  /** Set when a write failed: this object may hold changes storage does not; drop it. */
  broken = false;
  /** The unlocked database, or undefined while locked (or before PIN setup: see `db`). */
  private database: VaultDatabase | undefined;
  private dek: Uint8Array | undefined;
  /** When the vault was last unlocked (ms), 0 while locked. */
  unlockedAtMs = 0;
  /** Last use (ms), for idle locking and LRU. */
  lastUsedMs: number;
  private tail: Promise<unknown> = Promise.resolve();
  /** The sealed image of the current database version, when this object wrote or read it. */
  private cachedSealedDatabase: Uint8Array | undefined;

  private constructor(
    readonly ownerGuid: string,
    private readonly env: VaultEnvironment,
    private readonly material: Uint8Array,
    private readonly recordKey: Uint8Array,
    private readonly sealedMaterial: Uint8Array,
    private stored: StoredState,
    private generation: bigint,
    private blobVersion: string | undefined,
    /** Size of the stored record, bytes. */
    public recordBytes: number,
  ) {
    this.lastUsedMs = env.now();
  }

  /**
   * Creates a new vault: fresh material sealed by the NSM, an empty database passed to `init`,
   * stored with `create_only`. Resolves once durable.
   *
   * @throws ConnectError `already_exists` when a vault exists for the member.
   */
  static async create(
    env: VaultEnvironment,
    ownerGuid: string,
    init: (db: VaultDatabase) => void | Promise<void>,
  ): Promise<Vault> {
    const material = new Uint8Array(randomBytes(VAULT_KEY_BYTES));
    const sealedMaterial = await env.nsm.seal(material, materialContext(ownerGuid));
    const now = env.now();
    const stored = create(VaultStateSchema, { createdAtMs: BigInt(now) });
    const vault = new Vault(
      ownerGuid,
      env,
      material,
      deriveRecordKey(material, ownerGuid),
      sealedMaterial,
      stored,
      0n,
      undefined,
      0,
    );
    const db = createVaultDatabase();
    await init(db);
    vault.database = db;
    await vault.commit();
    return vault;
  }

  /**
   * Loads a vault's record from storage; `undefined` when the member has no vault. The vault is
   * locked afterwards (open, if the PIN was never set).
   *
   * @throws VaultLoadError when the record is older than one already seen (`rolled_back`), fails
   *   authentication (`tampered`), or belongs to someone else (`foreign`).
   */
  static async load(env: VaultEnvironment, ownerGuid: string): Promise<Vault | undefined> {
    const got = await env.store.get(vaultRecordKey(ownerGuid));
    if (got.outcome !== "ok") return undefined;
    let record: VaultRecord;
    try {
      record = fromBinary(VaultRecordSchema, got.data);
    } catch {
      throw new VaultLoadError("tampered", `vault record of ${ownerGuid} does not decode`);
    }
    if (record.format !== VAULT_RECORD_FORMAT) {
      throw new VaultLoadError("tampered", `vault record format ${record.format} is not supported`);
    }
    if (record.ownerGuid !== ownerGuid) {
      throw new VaultLoadError(
        "foreign",
        `the record stored for ${ownerGuid} names another member`,
      );
    }
    const highest = env.freshness.highest(ownerGuid);
    if (highest !== undefined && record.generation < highest) {
      throw new VaultLoadError(
        "rolled_back",
        `vault record of ${ownerGuid} is generation ${record.generation}, older than ${highest} already seen: refusing a rolled-back vault`,
      );
    }
    let material: Uint8Array;
    try {
      material = await env.nsm.unseal(record.sealedMaterial, materialContext(ownerGuid));
    } catch {
      throw new VaultLoadError("tampered", `vault material of ${ownerGuid} does not unseal`);
    }
    const recordKey = deriveRecordKey(material, ownerGuid);
    const plain = open(recordKey, record.sealedState, recordAad(ownerGuid, record.generation));
    if (plain === undefined) {
      throw new VaultLoadError("tampered", `vault record of ${ownerGuid} fails authentication`);
    }
    const stored = fromBinary(VaultStateSchema, plain);
    env.freshness.raise(ownerGuid, record.generation);
    const vault = new Vault(
      ownerGuid,
      env,
      material,
      recordKey,
      record.sealedMaterial,
      stored,
      record.generation,
      got.version,
      got.data.length,
    );
    if (!stored.pinSet)
      vault.database = vault.openDatabase(recordKey, await vault.sealedDatabase());
    return vault;
  }

  /** Runs `operation` after every earlier one on this vault: one operation at a time. */
  exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.tail.then(operation, operation);
    this.tail = run.catch(() => {});
    return run;
  }

  /** The lifecycle state members see. */
  get state(): VaultState {
    if (!this.stored.pinSet) return VaultState.UNINITIALIZED;
    if (this.lockedOutUntil() > 0) return VaultState.PIN_LOCKOUT;
    return this.dek === undefined ? VaultState.LOCKED : VaultState.UNLOCKED;
  }

  /** Whether the database is open (unlocked, or not yet protected by a PIN). */
  get isOpen(): boolean {
    return this.database !== undefined;
  }

  /** The open database. @throws ConnectError `failed_precondition` while locked. */
  get db(): VaultDatabase {
    if (this.database === undefined) {
      throw new ConnectError(
        "the vault is locked: unlock it with the PIN first",
        Code.FailedPrecondition,
        undefined,
        [{ desc: VaultLockedDetailSchema, value: { state: this.state, pin: this.pinAttempts() } }],
      );
    }
    return this.database;
  }

  /** Size of the open database image, bytes (0 while locked): the memory budget's measure. */
  get databaseBytes(): number {
    return Number(this.stored.databaseBytes);
  }

  /** The PIN attempt counter as members see it. */
  pinAttempts(): PinAttemptState {
    const lockedUntil = this.lockedOutUntil();
    return create(PinAttemptStateSchema, {
      attemptsRemaining: lockedUntil > 0 ? 0 : MAX_PIN_ATTEMPTS - this.stored.pinFailures,
      maxAttempts: MAX_PIN_ATTEMPTS,
      lockedUntilMs: BigInt(lockedUntil),
      lockoutDurationSeconds: PIN_LOCKOUT_MS / 1000,
    });
  }

  /** Sets the first PIN; the database is from now on sealed with the DEK. */
  async setupPin(pin: string): Promise<void> {
    requirePin(pin, "pin");
    if (this.stored.pinSet) {
      throw new ConnectError("the PIN is already set: use ChangePin", Code.FailedPrecondition);
    }
    const db = this.db;
    this.dek = deriveDek(this.material, this.ownerGuid, pin);
    this.stored.pinSet = true;
    this.database = db;
    this.unlockedAtMs = this.env.now();
    await this.commit();
  }

  /**
   * Checks a PIN and unlocks on success. The attempt is counted in storage before the PIN is
   * checked, so a parent that fails or drops writes learns nothing from the outcome; a correct
   * PIN then clears the count.
   */
  async unlock(pin: string): Promise<PinCheck> {
    requirePin(pin, "pin");
    if (!this.stored.pinSet) {
      throw new ConnectError("no PIN is set yet: call SetupPin", Code.FailedPrecondition);
    }
    if (this.lockedOutUntil() > 0) return "locked_out";
    const failuresBefore = this.stored.pinFailures;
    this.stored.pinFailures = failuresBefore + 1;
    if (this.stored.pinFailures >= MAX_PIN_ATTEMPTS) {
      this.stored.pinFailures = 0;
      this.stored.pinLockedUntilMs = BigInt(this.env.now() + PIN_LOCKOUT_MS);
    }
    await this.writeState();
    const dek = deriveDek(this.material, this.ownerGuid, pin);
    const image = open(dek, await this.sealedDatabase(), this.databaseAad());
    if (image === undefined) {
      dek.fill(0);
      return "wrong_pin";
    }
    // Right PIN: the pessimistic count (and any lockout it started) is taken back. The reply need
    // not wait for that write: losing it (a crash) only leaves the member one attempt short until
    // the next write, never an attacker one attempt richer. It runs as the vault's next operation.
    this.stored.pinFailures = 0;
    this.stored.pinLockedUntilMs = 0n;
    void this.exclusive(() => this.writeState()).catch(() => {});
    if (this.dek === undefined) {
      this.database = openVaultDatabase(image);
      this.dek = dek;
      this.unlockedAtMs = this.env.now();
    }
    return "accepted";
  }

  /**
   * Switches the DEK to a new PIN (the caller checked the current one with {@link unlock}); the
   * next {@link commit} stores the database under it.
   */
  changePin(newPin: string): void {
    requirePin(newPin, "new_pin");
    if (this.dek === undefined)
      throw new ConnectError("the vault is locked", Code.FailedPrecondition);
    this.dek.fill(0);
    this.dek = deriveDek(this.material, this.ownerGuid, newPin);
  }

  /** Locks: the database and the DEK leave memory. Nothing to write: every change is stored. */
  lock(): void {
    if (!this.stored.pinSet) return;
    this.database?.close();
    this.database = undefined;
    this.dek?.fill(0);
    this.dek = undefined;
    this.unlockedAtMs = 0;
    this.cachedSealedDatabase = undefined;
  }

  /**
   * Stores the database (and the state) durably. Call after changing the database; reply to the
   * member only once it resolves.
   */
  async commit(): Promise<void> {
    const key = this.stored.pinSet ? this.dek : this.recordKey;
    if (key === undefined) throw new ConnectError("the vault is locked", Code.FailedPrecondition);
    const previousKey = this.stored.databaseKey;
    this.stored.databaseVersion += 1n;
    const sealed = seal(key, serializeVaultDatabase(this.db), this.databaseAad());
    this.stored.databaseBytes = BigInt(sealed.length);
    if (sealed.length <= INLINE_DATABASE_MAX_BYTES) {
      this.stored.database = sealed;
      this.stored.databaseKey = "";
      this.stored.databaseSha256 = new Uint8Array();
    } else {
      // The image first, then the record naming it: the record is the commit point.
      const databaseKey = vaultDatabaseKey(this.ownerGuid, this.stored.databaseVersion);
      const put = await this.guardedPut(databaseKey, sealed, { mode: "overwrite" });
      if (put.outcome !== "ok") {
        this.broken = true;
        throw new ConnectError("the vault database could not be stored", Code.Unavailable);
      }
      this.stored.database = new Uint8Array();
      this.stored.databaseKey = databaseKey;
      this.stored.databaseSha256 = sha256(sealed);
    }
    this.cachedSealedDatabase = sealed;
    await this.writeState();
    if (previousKey !== "" && previousKey !== this.stored.databaseKey) {
      // Best effort, after the reply: an image no record names any more is garbage, never data.
      void this.env.store.delete(previousKey).catch(() => {});
    }
  }

  /** The sealed database image the record names (fetched when stored apart). */
  private async sealedDatabase(): Promise<Uint8Array> {
    if (this.stored.databaseKey === "") return this.stored.database;
    if (this.cachedSealedDatabase !== undefined) return this.cachedSealedDatabase;
    const got = await this.env.store.get(this.stored.databaseKey);
    if (got.outcome !== "ok" || !equalBytes(sha256(got.data), this.stored.databaseSha256)) {
      throw new VaultLoadError(
        "tampered",
        `vault database of ${this.ownerGuid} is missing or does not match its record`,
      );
    }
    return got.data;
  }

  private async guardedPut(
    key: string,
    data: Uint8Array,
    condition: Parameters<BlobStore["put"]>[2],
  ): Promise<Awaited<ReturnType<BlobStore["put"]>>> {
    try {
      return await this.env.store.put(key, data, condition);
    } catch (error) {
      this.broken = true;
      throw new ConnectError(
        "the vault could not be stored; nothing was changed",
        Code.Unavailable,
        undefined,
        undefined,
        error,
      );
    }
  }

  /** Stores the state record (attempt counter, lifecycle, current database image). */
  async writeState(): Promise<void> {
    if (this.broken) {
      throw new ConnectError("vault must be reloaded after a failed write", Code.Unavailable);
    }
    const generation = this.generation + 1n;
    this.stored.writtenAtMs = BigInt(this.env.now());
    const record = create(VaultRecordSchema, {
      format: VAULT_RECORD_FORMAT,
      ownerGuid: this.ownerGuid,
      generation,
      sealedMaterial: this.sealedMaterial,
      sealedState: seal(
        this.recordKey,
        toBinary(VaultStateSchema, this.stored),
        recordAad(this.ownerGuid, generation),
      ),
    });
    const bytes = toBinary(VaultRecordSchema, record);
    const result = await this.guardedPut(
      vaultRecordKey(this.ownerGuid),
      bytes,
      this.blobVersion === undefined
        ? { mode: "create_only" }
        : { mode: "if_version_matches", version: this.blobVersion },
    );
    if (result.outcome !== "ok") {
      this.broken = true;
      if (this.blobVersion === undefined) {
        throw new ConnectError(`a vault already exists for ${this.ownerGuid}`, Code.AlreadyExists);
      }
      throw new ConnectError(
        "the vault changed in storage under this enclave; retry",
        Code.Aborted,
      );
    }
    this.blobVersion = result.version;
    this.generation = generation;
    this.recordBytes = bytes.length;
    this.env.freshness.raise(this.ownerGuid, generation);
  }

  /** Releases memory (eviction): like {@link lock}, and the open database of a new vault too. */
  close(): void {
    this.cachedSealedDatabase = undefined;
    this.database?.close();
    this.database = undefined;
    this.dek?.fill(0);
    this.dek = undefined;
  }

  /** The DEK equals the one this PIN gives (constant time); for ChangePin on an unlocked vault. */
  pinMatchesOpenDek(pin: string): boolean {
    if (this.dek === undefined) return false;
    return equalBytes(this.dek, deriveDek(this.material, this.ownerGuid, pin));
  }

  /** When the stored record was last written (ms). */
  get lastWrittenAtMs(): number {
    return Number(this.stored.writtenAtMs);
  }

  /** The record generation (for status and tests). */
  get recordGeneration(): bigint {
    return this.generation;
  }

  private lockedOutUntil(): number {
    const until = Number(this.stored.pinLockedUntilMs);
    return until > this.env.now() ? until : 0;
  }

  private databaseAad(): Uint8Array {
    return boundAad(DATABASE_AAD_LABEL, this.ownerGuid, this.stored.databaseVersion);
  }

  private openDatabase(key: Uint8Array, sealed: Uint8Array): VaultDatabase {
    const image = open(key, sealed, this.databaseAad());
    if (image === undefined) {
      throw new VaultLoadError(
        "tampered",
        `vault database of ${this.ownerGuid} fails authentication`,
      );
    }
    return openVaultDatabase(image);
  }
}

/** SHA-256 by OpenSSL: images are megabytes, and a JavaScript hash would dominate cold start. */
function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(data).digest());
}

function materialContext(ownerGuid: string) {
  return { owner_guid: ownerGuid, purpose: "vault-material" };
}

function recordAad(ownerGuid: string, generation: bigint): Uint8Array {
  return boundAad(RECORD_KEY_LABEL, ownerGuid, generation);
}

function requirePin(pin: string, field: string): void {
  if (!PIN_PATTERN.test(pin)) {
    throw new ConnectError(`${field} must be exactly 6 ASCII digits`, Code.InvalidArgument);
  }
}
