import { Code, ConnectError } from "@connectrpc/connect";
import type { Nsm } from "../nsm/index.js";
import type { BlobStore } from "../storage/index.js";
import {
  createFreshnessLedger,
  type FreshnessLedger,
  Vault,
  type VaultEnvironment,
} from "../vault-manager/vault.js";
import type { VaultDatabase } from "../vault-manager/vault-database.js";

/**
 * Memory the supervisor lets active vaults use: 12 GiB, the enclave size the design documents
 * give (c6a.2xlarge host, 12 GB for the enclave), less nothing — the budget counts vault memory only.
 */
export const DEFAULT_MEMORY_BUDGET_BYTES = 12 * 1024 ** 3;
/**
 * Fixed memory of an active vault beyond its database image: the SQLite connection, page cache
 * headroom and the JavaScript objects around it. Measured by `npm run bench -- enclave`.
 */
export const DEFAULT_VAULT_OVERHEAD_BYTES = 256 * 1024;

/**
 * An unlocked vault nobody used for this long is evicted (locked, its DEK wiped): 15 minutes, the
 * usual idle lock of password managers. The member unlocks with the PIN again.
 */
export const DEFAULT_IDLE_LOCK_MS = 15 * 60 * 1000;

/** What the registry reports, for metrics. */
export interface VaultRegistryObserver {
  coldStart?(ownerGuid: string, milliseconds: number): void;
  evicted?(ownerGuid: string): void;
}

/** Options of {@link createVaultRegistry}. */
export interface VaultRegistryOptions {
  readonly nsm: Nsm;
  readonly store: BlobStore;
  readonly now?: () => number;
  /** See {@link DEFAULT_MEMORY_BUDGET_BYTES}. */
  readonly memoryBudgetBytes?: number;
  /** See {@link DEFAULT_VAULT_OVERHEAD_BYTES}. */
  readonly vaultOverheadBytes?: number;
  readonly observer?: VaultRegistryObserver;
  /** See {@link DEFAULT_IDLE_LOCK_MS}. */
  readonly idleLockMs?: number;
  /** Rollback protection (shared across registries of one enclave in tests). */
  readonly freshness?: FreshnessLedger;
}

/**
 * The active vaults of an enclave: loaded on first use (cold start), kept in least-recently-used
 * order, evicted when their estimated memory passes the budget. Eviction loses nothing: every
 * acknowledged change is already stored. An evicted vault is locked; the member unlocks again.
 */
export interface VaultRegistry {
  use<T>(ownerGuid: string, operation: (vault: Vault) => Promise<T>): Promise<T>;
  create(ownerGuid: string, init: (db: VaultDatabase) => Promise<void>): Promise<Vault>;
  /**
   * Runs `operation` on the member's vault only if it is in memory and unlocked (work the enclave
   * does on its own, which must neither load a vault nor touch a locked one); undefined otherwise.
   */
  useIfOpen<T>(ownerGuid: string, operation: (vault: Vault) => Promise<T>): Promise<T | undefined>;
  /** Members whose vaults are in memory and unlocked. */
  openVaults(): string[];
  /** Drops a vault from memory now (the EvictVault control command). */
  evict(ownerGuid: string): boolean;
  /** Drops every vault (drain, shutdown). */
  evictAll(): void;
  /** Evicts the vaults idle for longer than the idle lock; returns how many. */
  evictIdle(): number;
  /** Vaults in memory. */
  readonly activeCount: number;
  /** Estimated memory of the active vaults, bytes. */
  readonly usedBytes: number;
  readonly budgetBytes: number;
}

export function createVaultRegistry(options: VaultRegistryOptions): VaultRegistry {
  const env: VaultEnvironment = {
    nsm: options.nsm,
    store: options.store,
    freshness: options.freshness ?? createFreshnessLedger(),
    now: options.now ?? Date.now,
  };
  const budget = options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES;
  const overhead = options.vaultOverheadBytes ?? DEFAULT_VAULT_OVERHEAD_BYTES;
  /** Insertion order = recency: a use moves the vault to the end. */
  const active = new Map<string, Vault>();
  const loading = new Map<string, Promise<Vault | undefined>>();
  const busy = new Map<string, number>();

  const sizeOf = (vault: Vault) => overhead + (vault.isOpen ? vault.databaseBytes * 2 : 0);
  const used = () => {
    let total = 0;
    for (const vault of active.values()) total += sizeOf(vault);
    return total;
  };

  function drop(ownerGuid: string): boolean {
    const vault = active.get(ownerGuid);
    if (vault === undefined) return false;
    active.delete(ownerGuid);
    vault.close();
    options.observer?.evicted?.(ownerGuid);
    return true;
  }

  function enforceBudget(): void {
    let total = used();
    for (const [guid, vault] of active) {
      if (total <= budget) break;
      if ((busy.get(guid) ?? 0) > 0) continue;
      total -= sizeOf(vault);
      drop(guid);
    }
  }

  async function load(ownerGuid: string): Promise<Vault | undefined> {
    const existing = active.get(ownerGuid);
    if (existing !== undefined && !existing.broken) return existing;
    if (existing?.broken === true) drop(ownerGuid);
    let pending = loading.get(ownerGuid);
    if (pending === undefined) {
      const started = performance.now();
      pending = Vault.load(env, ownerGuid).then((vault) => {
        if (vault !== undefined) {
          active.set(ownerGuid, vault);
          options.observer?.coldStart?.(ownerGuid, performance.now() - started);
        }
        return vault;
      });
      loading.set(ownerGuid, pending);
      pending.finally(() => loading.delete(ownerGuid)).catch(() => {});
    }
    return pending;
  }

  return {
    async use(ownerGuid, operation) {
      busy.set(ownerGuid, (busy.get(ownerGuid) ?? 0) + 1);
      try {
        const vault = await load(ownerGuid);
        if (vault === undefined) {
          throw new ConnectError(`no vault for member ${ownerGuid}`, Code.NotFound);
        }
        // Most recently used goes last.
        active.delete(ownerGuid);
        active.set(ownerGuid, vault);
        vault.lastUsedMs = env.now();
        return await vault.exclusive(async () => {
          if (vault.broken) {
            throw new ConnectError(
              "the vault is reloading after a failed write; retry",
              Code.Unavailable,
            );
          }
          return operation(vault);
        });
      } finally {
        const left = (busy.get(ownerGuid) ?? 1) - 1;
        if (left === 0) busy.delete(ownerGuid);
        else busy.set(ownerGuid, left);
        if (active.get(ownerGuid)?.broken === true && left === 0) drop(ownerGuid);
        enforceBudget();
      }
    },
    async create(ownerGuid, init) {
      const vault = await Vault.create(env, ownerGuid, init);
      drop(ownerGuid);
      active.set(ownerGuid, vault);
      enforceBudget();
      return vault;
    },
    async useIfOpen(ownerGuid, operation) {
      if (active.get(ownerGuid)?.isOpen !== true) return undefined;
      return this.use(ownerGuid, async (vault) =>
        vault.isOpen ? await operation(vault) : undefined,
      );
    },
    openVaults() {
      return [...active].filter(([, vault]) => vault.isOpen).map(([guid]) => guid);
    },
    evict: drop,
    evictIdle() {
      const cutoff = env.now() - (options.idleLockMs ?? DEFAULT_IDLE_LOCK_MS);
      let evicted = 0;
      for (const [guid, vault] of [...active]) {
        if (vault.lastUsedMs < cutoff && (busy.get(guid) ?? 0) === 0 && drop(guid)) evicted += 1;
      }
      return evicted;
    },
    evictAll() {
      for (const guid of [...active.keys()]) drop(guid);
    },
    get activeCount() {
      return active.size;
    },
    get usedBytes() {
      return used();
    },
    budgetBytes: budget,
  };
}
