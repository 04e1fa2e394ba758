import { equalBytes } from "@noble/curves/utils.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { VerificationFailure } from "../../../gen/vettid/attestation/v1/document_pb.js";
import type { PcrSet } from "../../../gen/vettid/attestation/v1/pcr_pb.js";
import { isAllZero } from "./bytes.js";
import { type Checked, failed, passed } from "./check-result.js";
import { msOf } from "./pcr-sets.js";

/** How a verifier decides which enclave builds it accepts, as resolved from its options. */
export type PcrPolicy =
  /** Accept the sets of this list (already checked), within its and their validity. */
  | {
      readonly kind: "sets";
      readonly issuedAtMs: number;
      readonly expiresAtMs: number | undefined;
      readonly sets: readonly PcrSet[];
    }
  /** Accept any PCRs (explicitly asked for: tools that only inspect documents). */
  | { readonly kind: "any" }
  /** No usable list: every document fails `PCR_LIST_INVALID` with `detail`. */
  | { readonly kind: "unusable"; readonly detail: string };

/**
 * Whether a document comes from an enclave started in debug mode: PCR0, PCR1 and PCR2 are all
 * zeros, as Nitro reports for `--debug-mode` (whose memory the parent instance can read). A
 * missing PCR0–2 counts as zero: a document that does not show a measured image proves none.
 */
export function isDebugMode(pcrs: ReadonlyMap<number, Uint8Array>): boolean {
  return [0, 1, 2].every((index) => isAllZero(pcrs.get(index) ?? new Uint8Array(0)));
}

/**
 * Finds the accepted set the document's PCRs match: the first set in the list that is valid at
 * `atMs` (from `valid_from_ms`, or the list's issue time when 0, to `valid_until_ms`, or without
 * end when 0) and whose every listed index is in the document with byte-identical value; indexes
 * it does not list are not checked. Returns the set's id ("" under the `any` policy). Fails
 * `PCR_LIST_INVALID` when the policy has no usable list or the list has expired at `atMs`, and
 * `PCR_MISMATCH` when no set matches.
 */
export function matchPcrSets(
  pcrs: ReadonlyMap<number, Uint8Array>,
  policy: PcrPolicy,
  atMs: number,
): Checked<string> {
  if (policy.kind === "any") return passed("");
  if (policy.kind === "unusable")
    return failed(VerificationFailure.PCR_LIST_INVALID, policy.detail);
  if (policy.expiresAtMs !== undefined && atMs > policy.expiresAtMs) {
    return failed(
      VerificationFailure.PCR_LIST_INVALID,
      `the accepted PCR set list expired at ${new Date(policy.expiresAtMs).toISOString()}`,
    );
  }
  for (const set of policy.sets) {
    const from = msOf(set.validFromMs) || policy.issuedAtMs;
    const until = msOf(set.validUntilMs) || Number.POSITIVE_INFINITY;
    if (atMs < from || atMs > until) continue;
    const matches = Object.entries(set.pcrs).every(([index, expected]) => {
      const actual = pcrs.get(Number(index));
      return actual !== undefined && equalBytes(actual, expected);
    });
    if (matches) return passed(set.id);
  }
  const pcr0 = pcrs.get(0);
  return failed(
    VerificationFailure.PCR_MISMATCH,
    `PCRs (PCR0 ${pcr0 === undefined ? "absent" : bytesToHex(pcr0)}) match none of the ${policy.sets.length} accepted sets valid at ${new Date(atMs).toISOString()}`,
  );
}
