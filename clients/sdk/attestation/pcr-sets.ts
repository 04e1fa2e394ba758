import type { PcrSet } from "../../../gen/vettid/attestation/v1/pcr_pb.js";
import { MAX_PCR_INDEX, PCR_LENGTH } from "./constants.js";

/**
 * The accepted enclave builds a verifier holds: the sets of the newest operator-signed
 * `PcrSetList` it has verified ({@link verifySignedPcrSetList} makes these), or sets configured
 * directly. Keep it, and hand it back to `verifySignedPcrSetList` as `current` so that older lists
 * are refused.
 */
export interface AcceptedPcrSets {
  /** The list's sequence number; 0 for sets configured directly. */
  readonly sequence: bigint;
  /** When operators issued the list, in ms since the epoch: where a set with no start begins. */
  readonly issuedAtMs: number;
  /** When the list stops being usable, in ms since the epoch; undefined = no expiry. */
  readonly expiresAtMs: number | undefined;
  /** The accepted sets, each checked by {@link pcrSetProblem}. */
  readonly sets: readonly PcrSet[];
  /** The exact signed `pcr_set_list` bytes, to recognise a re-delivery of the same list. */
  readonly listBytes: Uint8Array;
}

/** The PCRs every set must pin: image (0), kernel and boot ramfs (1), application (2). */
export const REQUIRED_SET_PCRS = [0, 1, 2] as const;

/**
 * What is wrong with a `PcrSet`, or undefined when it can be matched against: a non-empty id;
 * PCR0, PCR1 and PCR2 present (a set that pins nothing would match every enclave); every index in
 * 0–31 with a {@link PCR_LENGTH}-byte value; a validity window of non-negative times whose end, if
 * any, is not before its start.
 */
export function pcrSetProblem(set: PcrSet): string | undefined {
  if (typeof set.id !== "string" || set.id.length === 0) return "a set has an empty id";
  const name = `set ${JSON.stringify(set.id)}`;
  if (typeof set.pcrs !== "object" || set.pcrs === null) return `${name} has no pcrs`;
  for (const [key, value] of Object.entries(set.pcrs)) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0 || index > MAX_PCR_INDEX) {
      return `${name} lists PCR index ${key}, outside 0–${MAX_PCR_INDEX}`;
    }
    if (!(value instanceof Uint8Array) || value.length !== PCR_LENGTH) {
      return `${name} PCR${index} is not ${PCR_LENGTH} bytes`;
    }
  }
  for (const index of REQUIRED_SET_PCRS) {
    if (!Object.hasOwn(set.pcrs, index)) return `${name} does not pin PCR${index}`;
  }
  const from = msOf(set.validFromMs);
  const until = msOf(set.validUntilMs);
  if (from === undefined || until === undefined) {
    return `${name} has a validity time that is negative or not a ms timestamp`;
  }
  if (until !== 0 && until < from) return `${name} ends before it starts`;
  return undefined;
}

/** What is wrong with a list of sets (see {@link pcrSetProblem}; ids must be unique), or undefined. */
export function pcrSetsProblem(sets: readonly PcrSet[]): string | undefined {
  const ids = new Set<string>();
  for (const set of sets) {
    const problem = pcrSetProblem(set);
    if (problem !== undefined) return problem;
    if (ids.has(set.id)) return `two sets have the id ${JSON.stringify(set.id)}`;
    ids.add(set.id);
  }
  return undefined;
}

/**
 * An int64 ms field (protobuf-es gives a bigint) as a number: undefined when negative or beyond
 * 2^53 ms, which no real time is.
 */
export function msOf(value: bigint | number): number | undefined {
  const ms = Number(value);
  return Number.isSafeInteger(ms) && ms >= 0 ? ms : undefined;
}
