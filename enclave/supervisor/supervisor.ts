import { create, toBinary } from "@bufbuild/protobuf";
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import {
  EnclaveAttestationService,
  VaultAttestationService,
} from "../../gen/vettid/attestation/v1/attestation_service_pb.js";
import {
  ControlCommandResultSchema,
  ControlCommandStatus,
  RejectionReason,
} from "../../gen/vettid/control/v1/command_pb.js";
import { VaultEchoService } from "../../gen/vettid/diagnostics/v1/echo_pb.js";
import { Party } from "../../gen/vettid/options/v1/options_pb.js";
import { BootstrapService } from "../../gen/vettid/vault/v1/bootstrap_pb.js";
import { CredentialService } from "../../gen/vettid/vault/v1/credential_pb.js";
import { PinService } from "../../gen/vettid/vault/v1/pin_pb.js";
import { ProvisioningService } from "../../gen/vettid/vault/v1/provisioning_pb.js";
import { SecretsService } from "../../gen/vettid/vault/v1/secrets_pb.js";
import { StatusService } from "../../gen/vettid/vault/v1/status_pb.js";
import { VotingService } from "../../gen/vettid/vault/v1/voting_pb.js";
import { ErrorCode } from "../../gen/vettid/vsock/v1/frame_pb.js";
import { HealthResponseSchema, MetricUnit } from "../../gen/vettid/vsock/v1/health_pb.js";
import { createNatsTransport } from "../../rpc/client/index.js";
import {
  createRequestOpener,
  createSealingKeyPair,
  type SealingKeyPair,
} from "../../rpc/sealing/index.js";
import { type NatsRpcServer, serveNats } from "../../rpc/server/index.js";
import { createVaultEchoService } from "../../server/diagnostics/vault-echo-service.js";
import {
  type ArrivalScope,
  createControlVerifier,
  type OperatorKey,
} from "../control/control-verifier.js";
import type { Nsm } from "../nsm/index.js";
import { createBootstrapService } from "../vault-manager/services/bootstrap-service.js";
import { createCredentialService } from "../vault-manager/services/credential-service.js";
import { createPinService } from "../vault-manager/services/pin-service.js";
import { createProvisioningService } from "../vault-manager/services/provisioning-service.js";
import { createSecretsService } from "../vault-manager/services/secrets-service.js";
import { createStatusService } from "../vault-manager/services/status-service.js";
import type { VaultAccess } from "../vault-manager/services/vault-access.js";
import { createVotingService } from "../vault-manager/services/voting-service.js";
import {
  type BatchScheduler,
  createEnclaveVoteCountersigner,
  type VotingTrust,
} from "../voting/index.js";
import {
  enclaveInboxPrefix,
  errorBody,
  listenVsock,
  type VsockConnection,
  type VsockServer,
} from "../vsock/index.js";
import { createAttestationServices } from "./attestation-services.js";
import { createEnclaveMetrics, DEFAULT_METRICS_FLUSH_MS, METRIC } from "./enclave-metrics.js";
import { createEnclaveVoting, type EnclaveVoting } from "./enclave-voting.js";
import { createRelayedNatsConnection } from "./relayed-nats-connection.js";
import { createVaultRegistry, type VaultRegistry } from "./vault-registry.js";
import { createVsockBlobStore } from "./vsock-blob-store.js";

/** Version of this vault-manager build, reported to apps and health checks. */
export const VAULT_VERSION = "0.1.0";

/** Options of {@link startSupervisor}. */
export interface SupervisorOptions {
  /** Where to listen for the parent: a Unix socket locally (AF_VSOCK in production). */
  readonly socketPath: string;
  /** The NSM seam (the dev NSM locally). */
  readonly nsm: Nsm;
  /** This enclave's id: `Control.enclave.{enclave_id}.command` targets it. */
  readonly enclaveId: string;
  /** Pinned operator keys that may sign control commands, by key id. */
  readonly operatorKeys: ReadonlyMap<string, OperatorKey>;
  /** Memory budget for active vaults, bytes. */
  readonly memoryBudgetBytes?: number;
  /** Clock (ms), for tests of lockouts and command windows. */
  readonly now?: () => number;
  /** Problems that cannot be answered (never with member data). Default: stderr. */
  readonly onProblem?: (problem: string) => void;
  /**
   * Voting: the org and subscription keys this image pins. Without it VotingService answers
   * `failed_precondition` (an enclave built without voting keys).
   */
  readonly voting?: SupervisorVotingOptions;
}

/** Voting options of {@link startSupervisor}. */
export interface SupervisorVotingOptions {
  readonly trust: VotingTrust;
  /** Interval of vote batches (default ten minutes). */
  readonly batchIntervalMs?: number;
  /** Delay of the flush after a proposal closes (default thirty seconds). */
  readonly closeFlushDelayMs?: number;
  /** Timers of the batcher (tests). */
  readonly scheduler?: BatchScheduler;
}

/** Deadline of the enclave's own calls to the backend other than vote batches. */
const BACKEND_CALL_TIMEOUT_MS = 10_000;

/** A running supervisor. */
export interface Supervisor {
  readonly sealingPublicKey: Uint8Array;
  readonly registry: VaultRegistry;
  /** The enclave's voting (undefined without voting keys). */
  readonly voting: EnclaveVoting | undefined;
  close(): Promise<void>;
}

/**
 * Starts the enclave side: the sealing key (attested through the NSM), the vault registry, the
 * RPC server for every vault service running over the parent's relayed NATS, control commands,
 * health and metrics. The parent connects to `socketPath`; the latest connection is the link.
 */
export async function startSupervisor(options: SupervisorOptions): Promise<Supervisor> {
  const now = options.now ?? Date.now;
  const onProblem =
    options.onProblem ?? ((problem: string) => console.warn(`[supervisor] ${problem}`));
  const sealingKey: SealingKeyPair = await createSealingKeyPair();
  const startedAtMs = now();
  let link: VsockConnection | undefined;
  const relayed = createRelayedNatsConnection({ onProblem });
  const metrics = createEnclaveMetrics(options.enclaveId);
  const registry = createVaultRegistry({
    nsm: options.nsm,
    store: createVsockBlobStore(() => link),
    now,
    ...(options.memoryBudgetBytes === undefined
      ? {}
      : { memoryBudgetBytes: options.memoryBudgetBytes }),
    observer: {
      coldStart: (_guid, ms) =>
        metrics.record(METRIC.coldStartLatency, ms, MetricUnit.MILLISECONDS),
    },
  });
  const attest = (nonce: Uint8Array) =>
    options.nsm.attest({ publicKey: sealingKey.publicKey, nonce });
  let voting: EnclaveVoting | undefined;
  if (options.voting !== undefined) {
    const votingOptions = options.voting;
    voting = createEnclaveVoting({
      trust: votingOptions.trust,
      countersigner: await createEnclaveVoteCountersigner(options.nsm),
      registry,
      transport: createNatsTransport({
        connection: relayed.connection,
        inboxPrefix: enclaveInboxPrefix(options.enclaveId),
        defaultTimeoutMs: BACKEND_CALL_TIMEOUT_MS,
      }),
      now,
      onProblem,
      ...(votingOptions.batchIntervalMs === undefined
        ? {}
        : { batchIntervalMs: votingOptions.batchIntervalMs }),
      ...(votingOptions.closeFlushDelayMs === undefined
        ? {}
        : { closeFlushDelayMs: votingOptions.closeFlushDelayMs }),
      // The batcher reads the enclave's clock (the same one that judges the voting window).
      scheduler: votingOptions.scheduler ?? {
        setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
        clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
        now,
      },
    });
    voting.start();
  }
  const access: VaultAccess = {
    use: (guid, operation) => registry.use(guid, operation),
    unlocked: (guid) => voting?.unlocked(guid),
    create: (guid, init) => registry.create(guid, init),
    pinRateLimited: () => metrics.record(METRIC.pinRateLimited, 1, MetricUnit.COUNT),
    now,
    vaultVersion: VAULT_VERSION,
    attest,
  };
  const attestation = createAttestationServices({
    attest,
    sealingPublicKey: sealingKey.publicKey,
    enclaveId: options.enclaveId,
  });
  const timing: Interceptor = (next) => async (request) => {
    const started = performance.now();
    try {
      return await next(request);
    } catch (error) {
      if (!(error instanceof ConnectError))
        onProblem(`${request.method.name} failed: ${String(error)}`);
      throw error;
    } finally {
      metrics.record(METRIC.operationLatency, performance.now() - started, MetricUnit.MILLISECONDS);
    }
  };

  const server: NatsRpcServer = await serveNats({
    connection: relayed.connection,
    name: "vettid-enclave",
    description: "Vault services inside the enclave",
    sealing: createRequestOpener(sealingKey),
    interceptors: [timing],
    onProblem,
    routes(router) {
      router.service(BootstrapService, createBootstrapService(access));
      router.service(PinService, createPinService(access));
      router.service(CredentialService, createCredentialService(access));
      router.service(SecretsService, createSecretsService(access));
      router.service(StatusService, createStatusService(access));
      router.service(VotingService, createVotingService(access, voting));
      router.service(ProvisioningService, createProvisioningService(access, sealingKey));
      router.service(VaultEchoService, createVaultEchoService());
      router.service(EnclaveAttestationService, attestation.enclave);
      router.service(VaultAttestationService, attestation.vault);
    },
  });

  const verifier = createControlVerifier({
    keys: options.operatorKeys,
    enclaveId: options.enclaveId,
    now,
  });
  const onControl = (arrival: ArrivalScope) => (error: unknown, msg: { data: Uint8Array }) => {
    if (error !== null && error !== undefined) return;
    const verdict = verifier.verify(msg.data, arrival);
    const commandId = verdict.ok ? verdict.command.commandId : verdict.commandId;
    let status = ControlCommandStatus.REJECTED;
    let detail = verdict.ok ? "" : verdict.detail;
    let reason = verdict.ok ? RejectionReason.UNSPECIFIED : verdict.reason;
    if (verdict.ok) {
      const action = verdict.command.action;
      switch (action.case) {
        case "evictVault":
        case "restartVault":
          registry.evict(action.value.ownerGuid);
          status = ControlCommandStatus.COMPLETED;
          detail = "vault evicted (locked; its stored state is current)";
          break;
        case "drainEnclave":
          // Queued votes leave now: their records stay QUEUED until an unlock writes the outcome.
          if (voting !== undefined) void voting.flush();
          registry.evictAll();
          status = ControlCommandStatus.COMPLETED;
          detail = "every vault evicted";
          break;
        default:
          reason = RejectionReason.NOT_APPLICABLE;
          detail = `${action.case ?? "nothing"} is not for the supervisor`;
      }
    } else {
      onProblem(`control command refused: ${RejectionReason[verdict.reason]} ${verdict.detail}`);
    }
    if (commandId === undefined) return;
    relayed.connection.publish(
      `Control.result.${commandId}`,
      toBinary(
        ControlCommandResultSchema,
        create(ControlCommandResultSchema, {
          commandId,
          executorId: options.enclaveId,
          executor: Party.SUPERVISOR,
          status,
          rejectionReason: reason,
          detail,
          reportedAtMs: BigInt(now()),
        }),
      ),
    );
  };
  const controlSubscriptions = [
    relayed.connection.subscribe("Control.global.command", {
      callback: onControl({ kind: "global" }),
    }),
    relayed.connection.subscribe(`Control.enclave.${options.enclaveId}.command`, {
      callback: onControl({ kind: "enclave", enclaveId: options.enclaveId }),
    }),
    relayed.connection.subscribe("Control.user.*.command", {
      callback: (error, msg) =>
        onControl({ kind: "user", ownerGuid: msg.subject.split(".")[2] ?? "" })(error, msg),
    }),
  ];

  const vsock: VsockServer = await listenVsock({
    path: options.socketPath,
    onConnection: (connection) => serveParent(connection),
  });

  /** Open parent connections, oldest first; the newest is the link. A closed one hands back. */
  const links: VsockConnection[] = [];
  const useNewestLink = () => {
    link = links.at(-1);
    relayed.attach(link);
  };

  async function serveParent(connection: VsockConnection): Promise<void> {
    links.push(connection);
    useNewestLink();
    for await (const frame of connection) {
      const body = frame.body;
      switch (body.case) {
        case "deliverNatsMessage":
          relayed.deliver(body.value);
          break;
        case "healthRequest":
          await connection
            .respond(frame, {
              case: "healthResponse",
              value: create(HealthResponseSchema, {
                activeVaults: registry.activeCount,
                version: VAULT_VERSION,
                startedAtMs: BigInt(startedAtMs),
                memoryUsedBytes: BigInt(registry.usedBytes),
                memoryTotalBytes: BigInt(registry.budgetBytes),
              }),
            })
            .catch(() => {});
          break;
        default:
          if (frame.header !== undefined && frame.header.correlationId !== 0n) {
            await connection
              .respond(
                frame,
                errorBody(
                  ErrorCode.UNSUPPORTED_BODY,
                  `the enclave does not take ${body.case ?? "empty"} frames`,
                ),
              )
              .catch(() => {});
          }
      }
    }
    links.splice(links.indexOf(connection), 1);
    useNewestLink();
  }

  const gauges = setInterval(() => {
    registry.evictIdle();
    voting?.refreshDue();
    metrics.record(METRIC.activeVaults, registry.activeCount, MetricUnit.COUNT);
    metrics.record(
      METRIC.memoryUsagePercent,
      (100 * registry.usedBytes) / registry.budgetBytes,
      MetricUnit.PERCENT,
    );
    metrics.flush(link);
  }, DEFAULT_METRICS_FLUSH_MS);
  gauges.unref();

  return {
    sealingPublicKey: sealingKey.publicKey,
    registry,
    voting,
    async close() {
      clearInterval(gauges);
      voting?.stop();
      for (const subscription of controlSubscriptions) subscription.unsubscribe();
      await server.close();
      await vsock.close();
      registry.evictAll();
    },
  };
}
