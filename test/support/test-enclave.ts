/**
 * The real enclave for backend tests: the supervisor (vault-managers inside) and the parent, in
 * this process, on a Unix socket, with the dev NSM and vault records on disk. The parent relays
 * for the given NATS connection (a parent user's in operator mode).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import type { NatsConnection } from "nats";
import type { AttestationTrustStore } from "../../clients/sdk/attestation/index.js";
import { createDevNsm, type DevNsm } from "../../enclave/nsm/index.js";
import { startParent } from "../../enclave/parent/index.js";
import { createFilesystemBlobStore } from "../../enclave/storage/index.js";
import {
  type EnclaveVoting,
  type SupervisorVotingOptions,
  startSupervisor,
} from "../../enclave/supervisor/index.js";
import { readMeta } from "../../enclave/vault-manager/vault-database.js";
import { PcrSetSchema } from "../../gen/vettid/attestation/v1/pcr_pb.js";

/** A running enclave. */
export interface TestEnclave {
  readonly enclaveId: string;
  /** The sealing key its documents attest. */
  readonly sealingPublicKey: Uint8Array;
  /** What a verifier must trust to accept its documents: the dev root and its measured PCRs. */
  readonly trust: AttestationTrustStore;
  /** The identity public key of a member's vault, read inside the enclave (undefined: no vault). */
  identityPublicKey(ownerGuid: string): Promise<Uint8Array | undefined>;
  /** The enclave's voting (when started with voting keys). */
  readonly voting: EnclaveVoting | undefined;
  /** How many calls reached the enclave, counted by the parent (it sees subjects, not content). */
  readonly calls: { attestation: number; createCredential: number };
  /** Stops the supervisor and parent and starts new ones: a restart (new keys, same storage). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestEnclave(
  connection: NatsConnection,
  options: {
    readonly enclaveId?: string;
    /** The NSM (default: a dev NSM of its own). */
    readonly nsm?: DevNsm;
    /** The enclave's clock. */
    readonly now?: () => number;
    readonly voting?: SupervisorVotingOptions;
  } = {},
): Promise<TestEnclave> {
  const enclaveId = options.enclaveId ?? "enclave-test-1";
  const directory = await mkdtemp(join(tmpdir(), "vettid-test-enclave-"));
  const nsm = options.nsm ?? createDevNsm({ stateDir: join(directory, "nsm") });
  const socketPath = join(directory, "supervisor.sock");
  const calls = { attestation: 0, createCredential: 0 };
  const store = createFilesystemBlobStore({ directory: join(directory, "blobs") });
  const startBoth = async () => {
    const supervisor = await startSupervisor({
      socketPath,
      nsm,
      enclaveId,
      operatorKeys: new Map(),
      onProblem: process.env.VETTID_DEBUG ? (p) => console.error(p) : () => {},
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.voting === undefined ? {} : { voting: options.voting }),
    });
    const parent = startParent({
      nats: connection,
      socketPath,
      store,
      enclaveId,
      onProblem: () => {},
      observeFrame: (direction, frame) => {
        if (direction !== "to-enclave" || frame.body.case !== "deliverNatsMessage") return;
        const subject = frame.body.value.subject;
        if (subject.startsWith("Enclave.attestation.")) calls.attestation += 1;
        if (subject === "Enclave.sealed") calls.createCredential += 1;
      },
    });
    await parent.ready;
    return { supervisor, parent };
  };
  let { supervisor, parent } = await startBoth();
  const pcrs = await nsm.describePcrs();
  const root = await nsm.rootCertificate();
  return {
    enclaveId,
    trust: {
      pcrSets: [
        create(PcrSetSchema, {
          id: "test-enclave",
          pcrs: Object.fromEntries(
            pcrs.pcrs.filter((p) => p.index <= 2).map((p) => [p.index, p.value]),
          ),
        }),
      ],
      devRootSha256: root.fingerprintSha256,
      allowDevRoot: true,
    },
    async identityPublicKey(ownerGuid) {
      try {
        return await supervisor.registry.use(ownerGuid, async (vault) => {
          const key = readMeta(vault.db, "identity_public_key");
          return key instanceof Uint8Array ? new Uint8Array(key) : undefined;
        });
      } catch {
        return undefined;
      }
    },
    get sealingPublicKey() {
      return supervisor.sealingPublicKey;
    },
    get voting() {
      return supervisor.voting;
    },
    calls,
    async restart() {
      await parent.close();
      await supervisor.close();
      ({ supervisor, parent } = await startBoth());
    },
    async close() {
      await parent.close();
      await supervisor.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
