/**
 * The supervisor process (inside the enclave in production; a local process here):
 *
 *   tsx enclave/supervisor/main.ts --socket PATH --nsm-state DIR --enclave-id ID
 *     [--operator-keys FILE] [--memory-budget-mb N] [--voting-keys FILE]
 *
 * Without --voting-keys (enclave/voting/voting-keys-file.ts) VotingService answers
 * `failed_precondition`.
 *
 * Prints one line `ready <socket>` on stdout once the parent may connect.
 */
import { parseArgs } from "node:util";
import { readOperatorKeys } from "../control/operator-keys-file.js";
import { createDevNsm } from "../nsm/index.js";
import { readVotingKeysFile } from "../voting/voting-keys-file.js";
import { startSupervisor } from "./supervisor.js";

const { values } = parseArgs({
  options: {
    socket: { type: "string" },
    "nsm-state": { type: "string" },
    "enclave-id": { type: "string" },
    "operator-keys": { type: "string" },
    "memory-budget-mb": { type: "string" },
    "voting-keys": { type: "string" },
  },
});
const socket = values.socket;
const state = values["nsm-state"];
const enclaveId = values["enclave-id"];
if (socket === undefined || state === undefined || enclaveId === undefined) {
  process.stderr.write(
    "usage: supervisor --socket PATH --nsm-state DIR --enclave-id ID [--operator-keys FILE] [--memory-budget-mb N] [--voting-keys FILE]\n",
  );
  process.exit(2);
}
const budgetMb =
  values["memory-budget-mb"] === undefined ? undefined : Number(values["memory-budget-mb"]);
if (budgetMb !== undefined && !(budgetMb > 0)) {
  process.stderr.write("--memory-budget-mb must be a positive number\n");
  process.exit(2);
}
const supervisor = await startSupervisor({
  socketPath: socket,
  nsm: createDevNsm({ stateDir: state }),
  enclaveId,
  operatorKeys: await readOperatorKeys(values["operator-keys"]),
  ...(budgetMb === undefined ? {} : { memoryBudgetBytes: budgetMb * 1024 * 1024 }),
  ...(values["voting-keys"] === undefined
    ? {}
    : { voting: { trust: await readVotingKeysFile(values["voting-keys"]) } }),
});
process.stdout.write(`ready ${socket}\n`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void supervisor.close().finally(() => process.exit(0));
  });
}
