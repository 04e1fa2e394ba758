import { ConnectError } from "@connectrpc/connect";
import type { Vault } from "../vault.js";
import type { VaultDatabase } from "../vault-database.js";

/**
 * Runs a mutating operation in one database transaction and stores the vault before the reply.
 *
 * Password checks consume their challenge even when they fail, so a `ConnectError` thrown by the
 * operation (a refused password, a stale credential) is committed too: the transaction's work up
 * to the refusal is kept and stored, then the error goes to the member. Any other failure rolls
 * the transaction back and stores nothing.
 */
export async function committing<T>(
  vault: Vault,
  operation: (db: VaultDatabase) => Promise<T>,
): Promise<T> {
  const db = vault.db;
  db.exec("SAVEPOINT operation");
  let result: T;
  try {
    result = await operation(db);
  } catch (error) {
    if (error instanceof ConnectError) {
      db.exec("RELEASE operation");
      await vault.commit();
    } else {
      db.exec("ROLLBACK TO operation");
      db.exec("RELEASE operation");
    }
    throw error;
  }
  db.exec("RELEASE operation");
  await vault.commit();
  return result;
}
