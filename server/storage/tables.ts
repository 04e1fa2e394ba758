/**
 * The DynamoDB tables of the backend: one definition used by the services (table names and key
 * attributes), by the local stack and the tests (tables created in dynalite), and by the CDK
 * Infrastructure stack (the deployed tables). Changing a key here changes all three together.
 *
 * Names are `vettid-{environment}-{suffix}` ({@link tableName}).
 */

/** A DynamoDB key attribute: name and scalar type. */
export interface KeyAttribute {
  readonly name: string;
  readonly type: "S" | "N" | "B";
}

/** A global secondary index (projection ALL). */
export interface GlobalIndex {
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
}

/** One table: keys, indexes, and the attribute DynamoDB's TTL deletes expired items by. */
export interface TableDefinition {
  /** Logical name, also the last part of the physical name. */
  readonly suffix: string;
  /** What the table holds, for the CDK description and the docs. */
  readonly purpose: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly globalIndexes?: readonly GlobalIndex[];
  /** Numeric attribute (seconds since epoch) after which DynamoDB may delete the item. */
  readonly timeToLiveAttribute?: string;
}

/** Every table of the backend, by logical name. */
export const TABLES = {
  members: {
    suffix: "members",
    purpose:
      "One item per enrolled member: status, enrollment time, device binding (no vault data).",
    partitionKey: { name: "owner_guid", type: "S" },
  },
  enrollmentSessions: {
    suffix: "enrollment-sessions",
    purpose:
      "Enrollment sessions: device key binding, attestation nonce, state (started, finalized); single use.",
    partitionKey: { name: "session_id", type: "S" },
    timeToLiveAttribute: "expires_at_s",
  },
  invitations: {
    suffix: "invitations",
    purpose:
      "Invitation codes, stored as the SHA-256 of the normalised code (never the code): expiry, single use, the session that used it.",
    partitionKey: { name: "code_hash", type: "S" },
    timeToLiveAttribute: "expires_at_s",
  },
  natsTokens: {
    suffix: "nats-tokens",
    purpose: "Member NATS user JWTs issued (jwt id, expiry) so they can be listed and revoked.",
    partitionKey: { name: "owner_guid", type: "S" },
    sortKey: { name: "jwt_id", type: "S" },
    timeToLiveAttribute: "expires_at_s",
  },
  revocations: {
    suffix: "revocations",
    purpose:
      "Revoked NATS user public keys and the time of revocation (the account's revocation list).",
    partitionKey: { name: "user_public_key", type: "S" },
    timeToLiveAttribute: "expires_at_s",
  },
  natsAccounts: {
    suffix: "nats-accounts",
    purpose:
      "The JWT in force of each NATS account (with its revocation list): the source of the servers' resolver preload; replaced only by a conditional write on the previous JWT's id.",
    partitionKey: { name: "account_public_key", type: "S" },
  },
  deviceProofNonces: {
    suffix: "device-proof-nonces",
    purpose:
      "Nonces of accepted device proofs, remembered for the proofs' acceptance window so a captured proof cannot be replayed.",
    partitionKey: { name: "nonce_id", type: "S" },
    timeToLiveAttribute: "expires_at_s",
  },
  rateLimits: {
    suffix: "rate-limits",
    purpose:
      "Rate-limit counters shared by every instance (rate-limiter-flexible's DynamoDB layout: key, points, expire).",
    partitionKey: { name: "key", type: "S" },
    timeToLiveAttribute: "expire",
  },
  proposals: {
    suffix: "proposals",
    purpose: "Signed voting proposals with their signature fields and status (open, closed).",
    partitionKey: { name: "proposal_id", type: "S" },
    globalIndexes: [
      {
        name: "status-index",
        partitionKey: { name: "status", type: "S" },
        sortKey: { name: "closes_at_ms", type: "N" },
      },
    ],
  },
  votes: {
    suffix: "votes",
    purpose:
      "Signed votes keyed by proposal and voting public key (one per key: a later vote replaces it). No member id.",
    partitionKey: { name: "proposal_id", type: "S" },
    sortKey: { name: "voting_public_key", type: "S" },
  },
  voteLists: {
    suffix: "vote-lists",
    purpose:
      "Published vote lists: counts, Merkle root, signed tree head, location of the list in S3.",
    partitionKey: { name: "proposal_id", type: "S" },
  },
  credentialBackups: {
    suffix: "credential-backups",
    purpose: "Encrypted credential backups' metadata and recovery requests (24 h delay).",
    partitionKey: { name: "owner_guid", type: "S" },
    sortKey: { name: "backup_id", type: "S" },
    globalIndexes: [{ name: "recovery-index", partitionKey: { name: "recovery_id", type: "S" } }],
  },
  controlAudit: {
    suffix: "control-audit",
    purpose: "Audit trail of operator control commands seen on NATS and every receiver's result.",
    partitionKey: { name: "command_id", type: "S" },
    sortKey: { name: "entry", type: "S" },
  },
} as const satisfies Record<string, TableDefinition>;

/** The logical names of the tables. */
export type TableKey = keyof typeof TABLES;

/** The physical table name in an environment, e.g. `vettid-dev-members`. */
export function tableName(environment: string, table: TableKey): string {
  if (!/^[a-z][a-z0-9-]{0,20}$/.test(environment)) {
    throw new TypeError(
      `environment must be 1-21 lowercase letters, digits or '-', starting with a letter; got ${JSON.stringify(environment)}`,
    );
  }
  return `vettid-${environment}-${TABLES[table].suffix}`;
}
