/**
 * The subject prefix under which replies to the enclave's own calls arrive (calls to the backend:
 * vote batches, subscription statements). The enclave has no NATS connection of its own: its
 * parent subscribes here and relays what comes, as it does for the vault subjects.
 */
export function enclaveInboxPrefix(enclaveId: string): string {
  return `_INBOX.enclave.${enclaveId}`;
}
