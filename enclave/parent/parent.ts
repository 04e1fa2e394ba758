import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { type Msg, type NatsConnection, headers as natsHeaders, type Subscription } from "nats";
import { ErrorCode, type Frame } from "../../gen/vettid/vsock/v1/frame_pb.js";
import type { MetricsReport } from "../../gen/vettid/vsock/v1/health_pb.js";
import { DeliverNatsMessageSchema, NatsHeaderSchema } from "../../gen/vettid/vsock/v1/nats_pb.js";
import { type BlobStore, createStorageHandler } from "../storage/index.js";
import {
  connectVsock,
  createFrame,
  enclaveInboxPrefix,
  errorBody,
  type VsockConnection,
  VsockError,
} from "../vsock/index.js";
import type { KmsRelay } from "./kms-relay.js";

/** Queue group of parents on the shared subjects: enclave hosts share the calls. */
export const DEFAULT_PARENT_QUEUE_GROUP = "vettid-enclave";
/** Storage keys the enclave may touch. */
export const DEFAULT_ENCLAVE_KEY_PREFIX = "vaults/";
/** Wait between attempts to reach the supervisor, ms. */
export const SUPERVISOR_RETRY_MS = 200;
/**
 * Storage and KMS requests from the enclave answered at once: 64, well above what the vaults of an
 * enclave have in flight in practice (each waits for its own write), and a bound on the parent's
 * memory and on the store's concurrency.
 */
export const MAX_CONCURRENT_REQUESTS = 64;

/** Which way a frame went, for observers. */
export type FrameDirection = "to-enclave" | "from-enclave";

/** Options of {@link startParent}. */
export interface ParentOptions {
  /** The parent's NATS connection (its own user: see `server/nats-auth` role `parent`). */
  readonly nats: NatsConnection;
  /** The supervisor's socket. */
  readonly socketPath: string;
  /** Where vault records live (S3 in production, a directory locally). */
  readonly store: BlobStore;
  /** This enclave's id (its Control subject). */
  readonly enclaveId: string;
  /** See {@link DEFAULT_ENCLAVE_KEY_PREFIX}. */
  readonly keyPrefix?: string;
  /** See {@link DEFAULT_PARENT_QUEUE_GROUP}. */
  readonly queueGroup?: string;
  /** Performs the enclave's KMS requests; without it they are refused `UNAVAILABLE` (the dev NSM seals locally). */
  readonly kms?: KmsRelay;
  /** Enclave metrics (CloudWatch EMF lines in production). */
  readonly onMetrics?: (report: MetricsReport) => void;
  /** Sees every frame crossing the vsock link (tests prove the parent sees only ciphertext). */
  readonly observeFrame?: (direction: FrameDirection, frame: Frame) => void;
  /** Problems worth a log line. Default: stderr. */
  readonly onProblem?: (problem: string) => void;
}

/** A running parent. */
export interface Parent {
  /** Resolves once connected to the supervisor and subscribed. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * The parent process: relays NATS messages for the enclave's subjects into the enclave, publishes
 * what the enclave sends out, and performs the enclave's storage requests. It holds no key that
 * opens anything it relays: member calls are sealed to the enclave's attested key and vault
 * records are sealed inside the enclave.
 */
export function startParent(options: ParentOptions): Parent {
  const onProblem = options.onProblem ?? ((problem: string) => console.warn(`[parent] ${problem}`));
  const storage = createStorageHandler(options.store, {
    keyPrefix: options.keyPrefix ?? DEFAULT_ENCLAVE_KEY_PREFIX,
  });
  const queue = options.queueGroup ?? DEFAULT_PARENT_QUEUE_GROUP;
  let link: VsockConnection | undefined;
  let closed = false;
  const subscriptions: Subscription[] = [];
  /** Storage and KMS requests being answered; close waits for them. */
  const inFlight = new Set<Promise<void>>();

  const toEnclave = (msg: Msg) => {
    const connection = link;
    if (connection === undefined) return; // No enclave: the caller's deadline answers for us.
    const headerList: { name: string; value: string }[] = [];
    if (msg.headers !== undefined) {
      for (const [name, values] of msg.headers)
        for (const value of values) headerList.push({ name, value });
    }
    const frame = createFrame({
      case: "deliverNatsMessage",
      value: create(DeliverNatsMessageSchema, {
        subject: msg.subject,
        reply: msg.reply ?? "",
        headers: headerList.map((h) => create(NatsHeaderSchema, h)),
        data: msg.data,
        receivedAtMs: BigInt(Date.now()),
      }),
    });
    options.observeFrame?.("to-enclave", frame);
    connection.send(frame).catch((error: unknown) => onProblem(`deliver failed: ${String(error)}`));
  };

  const subscribe = (subject: string, shared: boolean) => {
    subscriptions.push(
      options.nats.subscribe(subject, {
        ...(shared ? { queue } : {}),
        callback: (error, msg) => {
          if (error === null) toEnclave(msg);
        },
      }),
    );
  };

  /** Answers one request frame (storage, KMS): the response, or an error frame. */
  async function answer(connection: VsockConnection, frame: Frame): Promise<void> {
    const body = frame.body;
    try {
      switch (body.case) {
        case "storageGetRequest":
          await connection.respond(frame, {
            case: "storageGetResponse",
            value: await storage.get(body.value),
          });
          break;
        case "storagePutRequest":
          await connection.respond(frame, {
            case: "storagePutResponse",
            value: await storage.put(body.value),
          });
          break;
        case "storageDeleteRequest":
          await connection.respond(frame, {
            case: "storageDeleteResponse",
            value: await storage.delete(body.value),
          });
          break;
        case "kmsDecryptRequest":
        case "kmsGenerateDataKeyRequest": {
          const kms = options.kms;
          if (kms === undefined)
            throw new VsockError(ErrorCode.UNAVAILABLE, "this parent has no KMS configured");
          if (body.case === "kmsDecryptRequest") {
            await connection.respond(frame, {
              case: "kmsDecryptResponse",
              value: await kms.decrypt(body.value),
            });
          } else {
            await connection.respond(frame, {
              case: "kmsGenerateDataKeyResponse",
              value: await kms.generateDataKey(body.value),
            });
          }
          break;
        }
        default:
          throw new VsockError(
            ErrorCode.UNSUPPORTED_BODY,
            `the parent does not take ${body.case ?? "empty"} frames`,
          );
      }
    } catch (error) {
      const vsockError =
        error instanceof VsockError
          ? error
          : new VsockError(ErrorCode.INTERNAL, `parent failed: ${String(error)}`);
      if (frame.header !== undefined && frame.header.correlationId !== 0n) {
        await connection
          .respond(frame, errorBody(vsockError.code, vsockError.message))
          .catch(() => {});
      } else {
        onProblem(vsockError.message);
      }
    }
  }

  async function serveLink(connection: VsockConnection): Promise<void> {
    // Requests are answered concurrently (each vault waits for its own answer before its next
    // request, so one vault's writes stay in order), up to a bound: one slow write (an fsync, an
    // S3 round trip) must not hold up every other vault's.
    for await (const frame of connection) {
      options.observeFrame?.("from-enclave", frame);
      const body = frame.body;
      if (body.case === "publishNatsMessage") {
        // Published in arrival order, at once.
        const message = body.value;
        const hdrs = message.headers.length === 0 ? undefined : natsHeaders();
        for (const h of message.headers) hdrs?.append(h.name, h.value);
        try {
          options.nats.publish(message.subject, message.data, {
            ...(hdrs === undefined ? {} : { headers: hdrs }),
            ...(message.reply === "" ? {} : { reply: message.reply }),
          });
        } catch (error) {
          onProblem(`publish failed: ${String(error)}`);
        }
        continue;
      }
      if (body.case === "metricsReport") {
        options.onMetrics?.(body.value);
        continue;
      }
      if (inFlight.size >= MAX_CONCURRENT_REQUESTS) await Promise.race(inFlight);
      const task = answer(connection, frame).finally(() => inFlight.delete(task));
      inFlight.add(task);
    }
  }

  async function maintainLink(onFirst: () => void): Promise<void> {
    let first = true;
    while (!closed) {
      let connection: VsockConnection;
      try {
        connection = await connectVsock({ path: options.socketPath });
      } catch {
        await sleep(SUPERVISOR_RETRY_MS);
        continue;
      }
      link = connection;
      if (first) {
        first = false;
        onFirst();
      }
      await serveLink(connection);
      link = undefined;
      if (!closed) onProblem("supervisor link closed; reconnecting");
    }
  }

  const ready = new Promise<void>((resolve) => {
    void maintainLink(async () => {
      // Subscribe only once the enclave can take calls.
      subscribe("OwnerSpace.*.forVault.>", true);
      subscribe("Enclave.sealed", true);
      subscribe("Enclave.sealed.>", true);
      subscribe("Enclave.attestation.>", true);
      // Every supervisor must see every command meant for it: no queue group.
      subscribe("Control.global.command", false);
      subscribe(`Control.enclave.${options.enclaveId}.command`, false);
      // Replies to the enclave's own calls (vote batches, subscription statements).
      subscribe(`${enclaveInboxPrefix(options.enclaveId)}.>`, false);
      subscribe("Control.user.*.command", false);
      await options.nats.flush();
      resolve();
    });
  });

  return {
    ready,
    async close() {
      closed = true;
      for (const subscription of subscriptions) subscription.unsubscribe();
      await link?.close();
      // A write under way finishes (its vault may not learn of it: it retries after a restart).
      await Promise.all(inFlight);
    },
  };
}
