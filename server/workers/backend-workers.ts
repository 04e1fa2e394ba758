import type { NatsConnection } from "nats";
import {
  type ControlAuditWorker,
  type OperatorControlKeys,
  startControlAuditWorker,
} from "../control-audit/index.js";
import type { Logger } from "../logging/index.js";
import { type AccountJwtSigning, createMemberTokenRevoker } from "../member-credentials/index.js";
import {
  createControlAuditTable,
  createMembersTable,
  createNatsTokensTable,
  createRevocationsTable,
  type DynamoContext,
} from "../storage/index.js";

/** Options of {@link startBackendWorkers}. */
export interface BackendWorkersOptions {
  /** The backend user's NATS connection. */
  readonly connection: NatsConnection;
  readonly dynamo: DynamoContext;
  /** The pinned operator control keys. */
  readonly operatorKeys: OperatorControlKeys;
  /**
   * Where the operator signing key is held (the local stack): accepted RevokeMemberTokens also
   * re-sign, store and push the account JWT. Default: revocations are recorded and applied to
   * refreshes and members only.
   */
  readonly accountSigning?: AccountJwtSigning;
  readonly now?: () => number;
  readonly logger?: Logger;
}

/** The running workers. */
export interface BackendWorkers {
  readonly controlAudit: ControlAuditWorker;
  /** Resolves once every message received so far has been handled. */
  settled(): Promise<void>;
  /** Stops every worker (the connection stays the caller's). */
  close(): Promise<void>;
}

/**
 * The backend's NATS workers: the control audit trail (with revocations). Voting (vote intake,
 * subscription statements, publication every minute) runs beside them on the same connection,
 * started separately: `startVotingWorkers` (`voting-workers.ts`), as `main.ts` does.
 */
export function startBackendWorkers(options: BackendWorkersOptions): BackendWorkers {
  const revoker = createMemberTokenRevoker({
    tokens: createNatsTokensTable(options.dynamo),
    revocations: createRevocationsTable(options.dynamo),
    members: createMembersTable(options.dynamo),
    ...(options.accountSigning === undefined ? {} : { signing: options.accountSigning }),
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  const controlAudit = startControlAuditWorker({
    connection: options.connection,
    audit: createControlAuditTable(options.dynamo),
    keys: options.operatorKeys,
    revoker,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  return {
    controlAudit,
    settled: () => controlAudit.settled(),
    close: () => controlAudit.close(),
  };
}
