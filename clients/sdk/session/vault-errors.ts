import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type ChallengeRejectedDetail,
  ChallengeRejectedDetailSchema,
  type PasswordRejectedDetail,
  PasswordRejectedDetailSchema,
  type StaleCredentialDetail,
  StaleCredentialDetailSchema,
  type VaultLockedDetail,
  VaultLockedDetailSchema,
} from "../../../gen/vettid/vault/v1/errors_pb.js";

/** The VaultLockedDetail of a `failed_precondition` error: show the PIN screen (or the lockout). */
export function vaultLockedDetail(error: unknown): VaultLockedDetail | undefined {
  return detail(error, Code.FailedPrecondition, VaultLockedDetailSchema);
}

/** The PasswordRejectedDetail of a `permission_denied` error: a wrong password. */
export function passwordRejectedDetail(error: unknown): PasswordRejectedDetail | undefined {
  return detail(error, Code.PermissionDenied, PasswordRejectedDetailSchema);
}

/** The ChallengeRejectedDetail of a `failed_precondition` error: start a new challenge. */
export function challengeRejectedDetail(error: unknown): ChallengeRejectedDetail | undefined {
  return detail(error, Code.FailedPrecondition, ChallengeRejectedDetailSchema);
}

/** The StaleCredentialDetail of a `failed_precondition` error: the vault wants another CEK version. */
export function staleCredentialDetail(error: unknown): StaleCredentialDetail | undefined {
  return detail(error, Code.FailedPrecondition, StaleCredentialDetailSchema);
}

/**
 * Whether a sealed call was refused because it was sealed to a key the enclave no longer holds
 * (it restarted): docs/protocol.md §8, `failed_precondition` "…: fetch a fresh attestation".
 */
export function isStaleEnclaveKeyError(error: unknown): boolean {
  return (
    error instanceof ConnectError &&
    error.code === Code.FailedPrecondition &&
    error.rawMessage.includes("fetch a fresh attestation")
  );
}

/** Whether a call may have been done without its reply arriving (lost reply, timeout). */
export function isLostReplyError(error: unknown): boolean {
  return (
    error instanceof ConnectError &&
    (error.code === Code.Unavailable || error.code === Code.DeadlineExceeded)
  );
}

function detail<Desc extends DescMessage>(
  error: unknown,
  code: Code,
  schema: Desc,
): MessageShape<Desc> | undefined {
  if (!(error instanceof ConnectError) || error.code !== code) return undefined;
  return error.findDetails(schema)[0];
}
