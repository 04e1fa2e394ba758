import { TrustRoot } from "../../../gen/vettid/attestation/v1/document_pb.js";
import type { PcrSet } from "../../../gen/vettid/attestation/v1/pcr_pb.js";
import type { ChainTrust } from "./certificate-chain.js";
import { MAX_ATTESTATION_FIELD_BYTES } from "./constants.js";
import type { PcrPolicy } from "./pcr-policy.js";
import { type AcceptedPcrSets, pcrSetsProblem } from "./pcr-sets.js";
import { AWS_NITRO_ROOT_G1, type PinnedRoot } from "./trust-roots.js";
import { type Clock, resolveTime } from "./verification-time.js";

/**
 * How old a document may be, by its own timestamp, when verified: five minutes, the window the
 * sealed-call replay check uses too. A document made on request reaches the app in seconds; the
 * rest absorbs a phone clock running ahead of AWS's. Freshness proper comes from the nonce.
 */
export const DEFAULT_MAX_AGE_MS = 5 * 60_000;

/**
 * How far a document's timestamp, and its certificates' start of validity, may lie after the
 * verification time: five minutes, for phone clocks running behind AWS's. It only avoids false
 * rejections: a document cannot be made to look newer than AWS signed it.
 */
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * What an app trusts, set up once: the enclave builds it accepts, and whether it accepts debug
 * enclaves or the dev NSM's documents. The AWS Nitro root G1 is always trusted; nothing here can
 * remove it or add another production root.
 */
export interface AttestationTrustStore {
  /**
   * The accepted enclave builds: the sets from {@link verifySignedPcrSetList} (the newest signed
   * list the app holds, checked again here for expiry), or sets configured directly. Default:
   * none, and every document fails `PCR_LIST_INVALID`: a verifier that checks no PCRs trusts any
   * enclave anyone runs on Nitro, including an attacker's.
   */
  readonly pcrSets?: AcceptedPcrSets | readonly PcrSet[];
  /**
   * Skip the PCR check, for tools that inspect documents rather than trust them. Default false.
   * Cannot be combined with `pcrSets`.
   */
  readonly allowAnyPcrs?: boolean;
  /**
   * Accept documents from enclaves in debug mode (PCR0–2 all zeros), whose memory the parent
   * instance can read. Default false; development only.
   */
  readonly allowDebug?: boolean;
  /**
   * SHA-256 of the dev NSM's root certificate (`DevNsm.rootCertificate().fingerprintSha256`), 64
   * hex digits (colons allowed). Trusted only with `allowDevRoot`; without it, a document under
   * this root fails `DEV_ROOT_NOT_ALLOWED`. Default none.
   */
  readonly devRootSha256?: string;
  /** Trust `devRootSha256` as a root. Default false; never in production. */
  readonly allowDevRoot?: boolean;
}

/** Options of {@link verifyAttestation}: the trust store plus what this one check expects. */
export interface VerifyAttestationOptions extends AttestationTrustStore {
  /**
   * Verification time, for certificate validity, document age and list expiry: ms since the epoch
   * or a Date. Default: now. Inject it in tests: Nitro leaves live three hours.
   */
  readonly at?: Clock;
  /** Oldest document accepted, in ms of age at `at`. Default {@link DEFAULT_MAX_AGE_MS}. */
  readonly maxAgeMs?: number;
  /** Tolerance for clocks behind AWS's, in ms. Default {@link DEFAULT_CLOCK_SKEW_MS}. */
  readonly clockSkewMs?: number;
  /**
   * The nonce the client sent; the document must carry exactly it. Default: not checked. Live
   * checks should always send and check one: it is what proves the document is not a replay.
   */
  readonly expectedNonce?: Uint8Array;
  /** The user_data the document must carry exactly. Default: not checked. */
  readonly expectedUserData?: Uint8Array;
  /** Fail `PUBLIC_KEY_MISSING` when the document has no public_key. Default false. */
  readonly requirePublicKey?: boolean;
}

/** {@link VerifyAttestationOptions} with every default applied and every value checked. */
export interface ResolvedVerifyAttestationOptions {
  readonly atMs: number;
  readonly maxAgeMs: number;
  readonly clockSkewMs: number;
  readonly expectedNonce: Uint8Array | undefined;
  readonly expectedUserData: Uint8Array | undefined;
  readonly requirePublicKey: boolean;
  readonly allowDebug: boolean;
  /** The roots chains may end at. */
  readonly chainTrust: ChainTrust;
  /** Which PCRs are accepted; an unusable list is kept as such, to fail `PCR_LIST_INVALID`. */
  readonly pcrPolicy: PcrPolicy;
}

/**
 * Resolves {@link VerifyAttestationOptions}: defaults in, complete options out. A PCR set list
 * that is unusable (a set without PCR0–2, a bad length) is not an error here: documents then
 * fail `PCR_LIST_INVALID`, as the schema says.
 *
 * @throws TypeError naming the option, for values no caller should pass (a negative age, a nonce
 *   that no document can carry, a dev root that is not a fingerprint, `allowDevRoot` without one).
 */
export function resolveVerifyAttestationOptions(
  options: VerifyAttestationOptions = {},
): ResolvedVerifyAttestationOptions {
  return {
    atMs: resolveTime(options.at, "at"),
    maxAgeMs: duration(options.maxAgeMs, DEFAULT_MAX_AGE_MS, "maxAgeMs", true),
    clockSkewMs: duration(options.clockSkewMs, DEFAULT_CLOCK_SKEW_MS, "clockSkewMs", false),
    expectedNonce: expectedBytes(options.expectedNonce, "expectedNonce"),
    expectedUserData: expectedBytes(options.expectedUserData, "expectedUserData"),
    requirePublicKey: flag(options.requirePublicKey, "requirePublicKey"),
    allowDebug: flag(options.allowDebug, "allowDebug"),
    chainTrust: resolveChainTrust(options),
    pcrPolicy: resolvePcrPolicy(options),
  };
}

function resolveChainTrust(options: AttestationTrustStore): ChainTrust {
  const allowDevRoot = flag(options.allowDevRoot, "allowDevRoot");
  let devRoot: string | undefined;
  if (options.devRootSha256 !== undefined) {
    devRoot =
      typeof options.devRootSha256 === "string"
        ? options.devRootSha256.replaceAll(":", "").toLowerCase()
        : "";
    if (!/^[0-9a-f]{64}$/.test(devRoot)) {
      throw new TypeError("devRootSha256 must be a SHA-256 fingerprint: 64 hex digits");
    }
  }
  if (allowDevRoot && devRoot === undefined) {
    throw new TypeError("allowDevRoot needs devRootSha256: the dev root to trust, pinned");
  }
  const roots: PinnedRoot[] = [AWS_NITRO_ROOT_G1];
  if (allowDevRoot && devRoot !== undefined) {
    roots.push({ fingerprintSha256: devRoot, trustRoot: TrustRoot.DEV_NSM });
  }
  return { roots, devAllowed: allowDevRoot, devRootSha256: devRoot };
}

function resolvePcrPolicy(options: AttestationTrustStore): PcrPolicy {
  const allowAny = flag(options.allowAnyPcrs, "allowAnyPcrs");
  const given = options.pcrSets;
  if (allowAny) {
    if (given !== undefined) throw new TypeError("pcrSets and allowAnyPcrs exclude each other");
    return { kind: "any" };
  }
  if (given === undefined) {
    return {
      kind: "unusable",
      detail: "no accepted PCR set list is configured (pcrSets), and allowAnyPcrs is not set",
    };
  }
  const list: Pick<AcceptedPcrSets, "issuedAtMs" | "expiresAtMs" | "sets"> = isSetArray(given)
    ? { issuedAtMs: 0, expiresAtMs: undefined, sets: given }
    : given;
  if (!Array.isArray(list.sets)) {
    return { kind: "unusable", detail: "pcrSets is neither a list of sets nor accepted sets" };
  }
  const problem = pcrSetsProblem(list.sets);
  if (problem !== undefined) return { kind: "unusable", detail: `pcrSets: ${problem}` };
  return {
    kind: "sets",
    issuedAtMs: Number.isSafeInteger(list.issuedAtMs) ? list.issuedAtMs : 0,
    expiresAtMs: list.expiresAtMs,
    sets: list.sets,
  };
}

function isSetArray(value: AcceptedPcrSets | readonly PcrSet[]): value is readonly PcrSet[] {
  return Array.isArray(value);
}

function duration(value: number | undefined, fallback: number, name: string, infinite: boolean) {
  const ms = value ?? fallback;
  if (typeof ms !== "number" || Number.isNaN(ms) || ms < 0 || (!infinite && !Number.isFinite(ms))) {
    throw new TypeError(`${name} must be a non-negative number of ms, got ${String(value)}`);
  }
  return ms;
}

function expectedBytes(value: Uint8Array | undefined, name: string): Uint8Array | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Uint8Array) || value.length > MAX_ATTESTATION_FIELD_BYTES) {
    throw new TypeError(
      `${name} must be a Uint8Array of at most ${MAX_ATTESTATION_FIELD_BYTES} bytes, as a document can carry`,
    );
  }
  return value.slice();
}

function flag(value: boolean | undefined, name: string): boolean {
  if (value !== undefined && typeof value !== "boolean") {
    throw new TypeError(`${name} must be a boolean`);
  }
  return value ?? false;
}
