import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import { encodeAttestationPayload } from "./attestation-payload.js";
import { MAX_ATTESTATION_FIELD_BYTES } from "./constants.js";
import { signCoseSign1 } from "./cose-sign1.js";
import {
  DEFAULT_LEAF_MIN_REMAINING_MS,
  DEFAULT_LEAF_VALIDITY_MS,
  type DevSigningChain,
  issueDevChain,
} from "./dev-chain.js";
import {
  checkPcrOverrides,
  type DevPcrInputs,
  defaultDevPcrInputs,
  measureDevPcrs,
} from "./dev-pcrs.js";
import {
  createDevRoot,
  type DevRoot,
  type DevRootCertificate,
  type DevRootPem,
  devRootCertificate,
  devRootFromPem,
  devRootToPem,
} from "./dev-root.js";
import { createDevSealer, DEV_SEALING_KEY_LENGTH, type DevSealer } from "./dev-sealing.js";
import { loadOrCreateDevRoot, loadOrCreateDevSealingKey } from "./dev-state-dir.js";
import type { AttestRequest, Nsm, PcrDescription, SealContext } from "./nsm.js";
import { NsmError } from "./nsm-error.js";

/** Options of {@link createDevNsm}; every one is optional. */
export interface DevNsmOptions {
  /**
   * Directory that keeps the dev root and the dev sealing key across restarts (created mode 0700;
   * see `dev-state-dir.ts` for the files). Default: none: a new root and a new sealing key per
   * process, so nothing sealed survives a restart and clients must re-pin the root. `npm start`
   * should pass one.
   */
  readonly stateDir?: string;
  /** A root to use instead of making or loading one (for example one shared by a team). */
  readonly root?: DevRootPem;
  /** A 32-byte sealing key to use instead of making or loading one. */
  readonly sealingKey?: Uint8Array;
  /**
   * Debug mode: PCR0–2 are all zeros, as Nitro reports for `--debug-mode` enclaves, which
   * verifiers reject unless told to allow debug documents. Default false.
   */
  readonly debug?: boolean;
  /** What PCR0–2 measure; each field defaults as {@link defaultDevPcrInputs} says. */
  readonly pcrInputs?: Partial<DevPcrInputs>;
  /** PCR values that replace the measured ones (index 0–15 → 48 bytes), for PCR-matching tests. */
  readonly pcrOverrides?: Readonly<Record<number, Uint8Array>>;
  /**
   * Module id written into documents. Default: `i-00000000000000000-enc` and 16 random hex digits,
   * Nitro's shape with an all-zero instance id that marks it as a dev NSM.
   */
  readonly moduleId?: string;
  /** Wrap documents in CBOR tag 18. Default false, as the real NSM writes them. */
  readonly tagged?: boolean;
  /** Validity of leaf certificates. Default {@link DEFAULT_LEAF_VALIDITY_MS} (3 h, as Nitro). */
  readonly leafValidityMs?: number;
  /** Clock in ms since the epoch, for documents' timestamps and certificate validity. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * The dev NSM: an {@link Nsm} that issues attestation documents in the real AWS format under a
 * dev root, and seals with a local key. It stands in for the Nitro hardware wherever there is none.
 * Clients accept its documents only when explicitly told to trust its root.
 */
export interface DevNsm extends Nsm {
  readonly kind: "dev";
  /** The module id its documents carry. */
  readonly moduleId: string;
  /** The dev root's certificate and fingerprint: what clients pin when dev documents are allowed. */
  rootCertificate(): Promise<DevRootCertificate>;
  /** The dev root with its private key, to give another dev NSM the same root. Development only. */
  exportRoot(): Promise<DevRootPem>;
}

/** {@link DevNsmOptions} with every default filled in. */
export interface ResolvedDevNsmOptions {
  readonly stateDir: string | undefined;
  readonly root: DevRootPem | undefined;
  readonly sealingKey: Uint8Array | undefined;
  readonly debug: boolean;
  readonly pcrInputs: DevPcrInputs;
  readonly pcrOverrides: Readonly<Record<number, Uint8Array>>;
  readonly moduleId: string;
  readonly tagged: boolean;
  readonly leafValidityMs: number;
  readonly now: () => number;
}

/**
 * Resolves {@link DevNsmOptions} into complete options.
 *
 * @throws NsmError `invalid_argument` naming the option that is wrong.
 */
export function resolveDevNsmOptions(options: DevNsmOptions = {}): ResolvedDevNsmOptions {
  const leafValidityMs = options.leafValidityMs ?? DEFAULT_LEAF_VALIDITY_MS;
  if (!Number.isSafeInteger(leafValidityMs) || leafValidityMs < 60_000) {
    throw new NsmError(
      "invalid_argument",
      `leafValidityMs must be a whole number of ms, at least 60000, got ${leafValidityMs}`,
    );
  }
  if (options.sealingKey !== undefined && options.sealingKey.length !== DEV_SEALING_KEY_LENGTH) {
    throw new NsmError(
      "invalid_argument",
      `sealingKey must be ${DEV_SEALING_KEY_LENGTH} bytes, got ${options.sealingKey.length}`,
    );
  }
  const moduleId = options.moduleId ?? `i-00000000000000000-enc${bytesToHex(randomBytes(8))}`;
  if (moduleId.length === 0 || moduleId.length > 128 || !/^[\x21-\x7e]+$/.test(moduleId)) {
    throw new NsmError(
      "invalid_argument",
      "moduleId must be 1–128 printable ASCII characters without spaces",
    );
  }
  checkPcrOverrides(options.pcrOverrides ?? {});
  return {
    stateDir: options.stateDir,
    root: options.root,
    sealingKey: options.sealingKey?.slice(),
    debug: options.debug ?? false,
    pcrInputs: { ...defaultDevPcrInputs(), ...options.pcrInputs },
    pcrOverrides: { ...options.pcrOverrides },
    moduleId,
    tagged: options.tagged ?? false,
    leafValidityMs,
    now: options.now ?? Date.now,
  };
}

/**
 * Makes a dev NSM. Nothing is read, measured or generated until first use: the root and sealing
 * key (from `root` / `sealingKey`, else `stateDir`, else new), the PCRs (measured once, like an
 * enclave measured at boot: later edits to the sources do not change a running NSM's PCRs), and
 * the signing chain (renewed when its leaf has less than {@link DEFAULT_LEAF_MIN_REMAINING_MS} left).
 *
 * @throws NsmError `invalid_argument` for a malformed option.
 */
export function createDevNsm(options: DevNsmOptions = {}): DevNsm {
  const resolved = resolveDevNsmOptions(options);
  const { now } = resolved;

  const root = once(async (): Promise<DevRoot> => {
    if (resolved.root !== undefined) return devRootFromPem(resolved.root);
    const create = () => createDevRoot(clock(now));
    if (resolved.stateDir !== undefined) return loadOrCreateDevRoot(resolved.stateDir, create);
    return create();
  });

  const sealer = once(async (): Promise<DevSealer> => {
    if (resolved.sealingKey !== undefined) return createDevSealer(resolved.sealingKey);
    if (resolved.stateDir !== undefined) {
      return createDevSealer(await loadOrCreateDevSealingKey(resolved.stateDir));
    }
    return createDevSealer(randomBytes(DEV_SEALING_KEY_LENGTH));
  });

  const pcrs = once(() =>
    measureDevPcrs(resolved.pcrInputs, {
      debug: resolved.debug,
      overrides: resolved.pcrOverrides,
    }),
  );

  // A leaf signs while it has two hours left (two thirds of a shorter validity).
  const minRemainingMs = Math.min(DEFAULT_LEAF_MIN_REMAINING_MS, (resolved.leafValidityMs * 2) / 3);
  let chain: DevSigningChain | undefined;
  let issuing: Promise<DevSigningChain> | undefined;
  async function signingChain(nowMs: number): Promise<DevSigningChain> {
    if (
      chain !== undefined &&
      nowMs >= chain.notBeforeMs &&
      chain.notAfterMs - nowMs >= minRemainingMs
    ) {
      return chain;
    }
    issuing ??= (async () => {
      try {
        chain = await issueDevChain(await root(), {
          nowMs,
          moduleId: resolved.moduleId,
          leafValidityMs: resolved.leafValidityMs,
        });
        return chain;
      } finally {
        issuing = undefined;
      }
    })();
    return issuing;
  }

  return {
    kind: "dev",
    moduleId: resolved.moduleId,

    async attest(request: AttestRequest = {}) {
      const publicKey = attestField(request.publicKey, "publicKey");
      const userData = attestField(request.userData, "userData");
      const nonce = attestField(request.nonce, "nonce");
      const timestampMs = clock(now);
      const measured = await pcrs();
      const signer = await signingChain(timestampMs);
      const payload = encodeAttestationPayload({
        moduleId: resolved.moduleId,
        timestampMs,
        pcrs: measured,
        certificate: signer.certificate,
        cabundle: signer.cabundle,
        publicKey,
        userData,
        nonce,
      });
      return signCoseSign1(payload, signer.signingKey, { tagged: resolved.tagged });
    },

    async describePcrs(): Promise<PcrDescription> {
      const measured = await pcrs();
      const values = [...measured.entries()]
        .sort(([a], [b]) => a - b)
        .map(([index, value]) => ({ index, value: value.slice(), locked: true }));
      const debug = [0, 1, 2].every((index) => measured.get(index)?.every((byte) => byte === 0));
      return { digest: "SHA384", debug, pcrs: values };
    },

    async seal(plaintext: Uint8Array, context: SealContext) {
      return (await sealer()).seal(plaintext, context);
    },

    async unseal(sealed: Uint8Array, context: SealContext) {
      return (await sealer()).unseal(sealed, context);
    },

    async rootCertificate() {
      return devRootCertificate(await root());
    },

    async exportRoot() {
      return devRootToPem(await root());
    },
  };
}

/** Checks one optional attestation field: bytes, at most {@link MAX_ATTESTATION_FIELD_BYTES}. */
function attestField(value: Uint8Array | undefined, name: string): Uint8Array | undefined {
  if (value === undefined || value === null) return undefined;
  if (!(value instanceof Uint8Array)) {
    throw new NsmError("invalid_argument", `attestation ${name} must be a Uint8Array`);
  }
  if (value.length > MAX_ATTESTATION_FIELD_BYTES) {
    throw new NsmError(
      "invalid_argument",
      `attestation ${name} is ${value.length} bytes; the NSM takes at most ${MAX_ATTESTATION_FIELD_BYTES}`,
    );
  }
  return value.slice();
}

function clock(now: () => number): number {
  const value = now();
  if (!Number.isFinite(value) || value < 0) {
    throw new NsmError("invalid_argument", `the dev NSM's clock returned ${value}, not a time`);
  }
  return Math.floor(value);
}

/** Runs `load` once and keeps its result; a failure is not kept, so the next call tries again. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
