/**
 * Run in a fresh process by the enclave benchmark: unlocks the vaults it is given and prints the
 * growth of the process's resident memory per vault as one JSON line. A fresh process, so that
 * garbage from building the vaults does not hide or inflate the figure.
 *
 *   node --expose-gc --import tsx bench/enclave/memory-probe.ts NSM_DIR BLOB_DIR PIN GUID...
 */
import { createDevNsm } from "../../enclave/nsm/index.js";
import { createFilesystemBlobStore } from "../../enclave/storage/index.js";
import { createVaultRegistry } from "../../enclave/supervisor/vault-registry.js";

const [nsmDir, blobDir, pin, ...guids] = process.argv.slice(2);
if (nsmDir === undefined || blobDir === undefined || pin === undefined || guids.length === 0) {
  process.stderr.write("usage: memory-probe NSM_DIR BLOB_DIR PIN GUID...\n");
  process.exit(2);
}
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const registry = createVaultRegistry({
  nsm: createDevNsm({ stateDir: nsmDir }),
  store: createFilesystemBlobStore({ directory: blobDir }),
});
// Warm up code paths and lazily made state (the NSM's keys) with the first vault, then measure.
const [first, ...rest] = guids;
await registry.use(first ?? "", (vault) => vault.unlock(pin));
gc();
const before = process.memoryUsage().rss;
for (const guid of rest) await registry.use(guid, (vault) => vault.unlock(pin));
gc();
const after = process.memoryUsage().rss;
process.stdout.write(
  `${JSON.stringify({ vaults: rest.length, active: registry.activeCount, bytesPerVault: (after - before) / rest.length })}\n`,
);
