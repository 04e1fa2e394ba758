/**
 * Where the SDK keeps a member's secrets on the device: the Protean Credential, the NATS nkey
 * seed and user JWT, the device key, the UTK pool. A small key–value interface, so each platform
 * plugs in its own protected store:
 * - iOS: the Keychain (`kSecClassGenericPassword`, `kSecAttrService` = the app, `kSecAttrAccount`
 *   = the key, `kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`); `SecItemUpdate`/`SecItemAdd`
 *   replace an item atomically.
 * - Android: EncryptedSharedPreferences (or DataStore with a Keystore-wrapped key); one
 *   `edit().putString(key, base64).commit()` per `set`, which replaces the entry atomically.
 * - Node (the CLI, tests): {@link createFileSecureStorage}, one file per key.
 */
export interface SecureStorage {
  /** The value stored under `key`, or undefined when there is none. */
  get(key: string): Promise<Uint8Array | undefined>;
  /**
   * Stores `value` under `key`, replacing any previous value **atomically**: after a crash at any
   * moment, `get` returns either the whole previous value or the whole new one, never a mix or
   * nothing. Durable once the promise resolves.
   */
  set(key: string, value: Uint8Array): Promise<void>;
  /** Removes `key` (nothing happens when it is absent). Durable once the promise resolves. */
  delete(key: string): Promise<void>;
  /** Every key stored that starts with `prefix` (all keys without one), in no particular order. */
  keys(prefix?: string): Promise<string[]>;
}

/**
 * Storage keys: 1–128 characters of lowercase letters, digits, `.`, `_` and `-`, starting with a
 * letter or digit. Safe as file names, Keychain accounts and SharedPreferences keys alike.
 */
export const STORAGE_KEY_PATTERN = /^[a-z0-9][a-z0-9._-]{0,127}$/;

/** @throws TypeError when `key` is not a valid storage key ({@link STORAGE_KEY_PATTERN}). */
export function checkStorageKey(key: string): void {
  if (typeof key !== "string" || !STORAGE_KEY_PATTERN.test(key)) {
    throw new TypeError(
      `storage key must match ${STORAGE_KEY_PATTERN}, got ${JSON.stringify(key)}`,
    );
  }
}
