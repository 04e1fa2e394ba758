import type { VerificationFailure } from "../../../gen/vettid/attestation/v1/document_pb.js";

/** A check that failed: which one (the schema's closed enum) and a detail for logs. */
export interface CheckFailure {
  readonly ok: false;
  /** The check that failed. */
  readonly failure: VerificationFailure;
  /** What exactly was wrong, naming the field or certificate; for logs, not for users. */
  readonly detail: string;
}

/** The outcome of one verification step: its value, or the failure that stops verification. */
export type Checked<T> = { readonly ok: true; readonly value: T } | CheckFailure;

/** A step that passed with `value`. */
export function passed<T>(value: T): Checked<T> {
  return { ok: true, value };
}

/** A step that failed `failure`, with `detail` for logs. */
export function failed(failure: VerificationFailure, detail: string): CheckFailure {
  return { ok: false, failure, detail };
}

/** The message of a caught exception, for a failure's detail (libraries throw anything). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
