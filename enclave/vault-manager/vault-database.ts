/**
 * A vault's database: SQLite in memory (better-sqlite3), saved and restored as a whole image
 * (sqlite3_serialize / deserialize) that the vault seals with the DEK. Nothing touches a disk.
 */
import Database from "better-sqlite3";

/** Schema version written to `meta.schema_version`. */
export const VAULT_SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value ANY NOT NULL) STRICT;
CREATE TABLE ceks (
  key_id TEXT PRIMARY KEY, version INTEGER NOT NULL UNIQUE, public_key BLOB NOT NULL,
  private_key BLOB NOT NULL, created_at_ms INTEGER NOT NULL) STRICT;
CREATE TABLE utks (
  utk_id TEXT PRIMARY KEY, public_key BLOB NOT NULL, private_key BLOB NOT NULL,
  created_at_ms INTEGER NOT NULL, challenge_id TEXT) STRICT;
CREATE TABLE challenges (
  challenge_id TEXT PRIMARY KEY, operation TEXT NOT NULL, utk_id TEXT NOT NULL,
  expires_at_ms INTEGER NOT NULL, consumed INTEGER NOT NULL DEFAULT 0) STRICT;
CREATE TABLE devices (
  device_id TEXT PRIMARY KEY, event_public_key BLOB NOT NULL, platform INTEGER NOT NULL,
  app_version TEXT NOT NULL, registered_at_ms INTEGER NOT NULL) STRICT;
CREATE TABLE secrets (
  secret_id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, category INTEGER NOT NULL,
  protection INTEGER NOT NULL, content_type TEXT NOT NULL, metadata TEXT NOT NULL,
  version INTEGER NOT NULL, size_bytes INTEGER NOT NULL, created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL) STRICT;
CREATE TABLE secret_versions (
  secret_id TEXT NOT NULL REFERENCES secrets(secret_id) ON DELETE CASCADE,
  version INTEGER NOT NULL, value BLOB NOT NULL, content_type TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL, PRIMARY KEY (secret_id, version)) STRICT;
`;

/**
 * Changes from each schema version to the next, applied in order when an older image is opened.
 * Index 0 takes version 1 to 2: the member's votes (VoteRecord bytes, with the columns lookups
 * need), the revision counter per proposal and the certificates of the enclave keys that
 * countersigned queued votes (needed to resend them after an enclave restart).
 */
const MIGRATIONS: readonly string[] = [
  `
CREATE TABLE votes (
  vote_hash BLOB PRIMARY KEY, proposal_id TEXT NOT NULL, revision INTEGER NOT NULL,
  status INTEGER NOT NULL, signed_at_ms INTEGER NOT NULL, closes_at_ms INTEGER NOT NULL,
  enclave_key_id TEXT NOT NULL, record BLOB NOT NULL) STRICT;
CREATE INDEX votes_by_signing ON votes (signed_at_ms DESC, vote_hash);
CREATE TABLE vote_revisions (proposal_id TEXT PRIMARY KEY, last_revision INTEGER NOT NULL) STRICT;
CREATE TABLE countersigning_keys (key_id TEXT PRIMARY KEY, certificate BLOB NOT NULL) STRICT;
`,
];

/** A vault database handle. */
export type VaultDatabase = Database.Database;

/** Creates an empty vault database with the current schema. */
export function createVaultDatabase(): VaultDatabase {
  const db = new Database(":memory:");
  db.pragma("foreign_keys = ON");
  db.exec(SCHEMA);
  for (const migration of MIGRATIONS) db.exec(migration);
  db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(
    String(VAULT_SCHEMA_VERSION),
  );
  return db;
}

/**
 * Opens a database image made by {@link serializeVaultDatabase}.
 *
 * An older schema is migrated in memory; the next commit stores the migrated image.
 *
 * @throws Error when the image is not a SQLite database or has an unknown schema version.
 */
export function openVaultDatabase(image: Uint8Array): VaultDatabase {
  const db = new Database(Buffer.from(image.buffer, image.byteOffset, image.byteLength));
  db.pragma("foreign_keys = ON");
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
    | { value: string }
    | undefined;
  const version = Number(row?.value);
  if (!Number.isInteger(version) || version < 1 || version > VAULT_SCHEMA_VERSION) {
    db.close();
    throw new Error(`vault database schema ${row?.value ?? "missing"} is not supported`);
  }
  if (version < VAULT_SCHEMA_VERSION) {
    db.transaction(() => {
      for (const migration of MIGRATIONS.slice(version - 1)) db.exec(migration);
      writeMeta(db, "schema_version", String(VAULT_SCHEMA_VERSION));
    })();
  }
  return db;
}

/** The database image, for sealing. */
export function serializeVaultDatabase(db: VaultDatabase): Uint8Array {
  return db.serialize();
}

/** Reads a `meta` value. */
export function readMeta(db: VaultDatabase, key: string): Uint8Array | string | undefined {
  const row = db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as
    | { value: Uint8Array | string }
    | undefined;
  return row?.value;
}

/** Writes a `meta` value. */
export function writeMeta(db: VaultDatabase, key: string, value: Uint8Array | string): void {
  db.prepare(
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  ).run(key, value);
}
