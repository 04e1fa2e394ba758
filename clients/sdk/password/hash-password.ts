import { argon2idAsync } from "@noble/hashes/argon2.js";
import type { Argon2idParameters } from "../../../gen/vettid/vault/v1/credential_pb.js";
import {
  ARGON2_VERSION,
  ARGON2ID_OUTPUT_BYTES,
  argon2idParametersProblem,
} from "./argon2id-parameters.js";

/** Longest password accepted, in UTF-8 bytes: far beyond what anyone types, short of abuse. */
export const MAX_PASSWORD_BYTES = 4096;

/** Options of {@link hashPassword}. */
export interface HashPasswordOptions {
  /** Called with the fraction done (0–1) while hashing, for a progress bar. */
  readonly onProgress?: (fraction: number) => void;
}

const encoder = new TextEncoder();

/**
 * Step 1 of "vettid-password-v1" (credential.proto): Argon2id (RFC 9106, version 0x13) of the
 * password's UTF-8 bytes with the vault's parameters and salt, 32 bytes out. The password is
 * encoded as given (no Unicode normalisation, no trimming): every platform must hash the same
 * bytes. Takes about a second and 64 MiB at the minimum parameters; runs in slices so the event
 * loop keeps turning. Wipe the result once it is encrypted.
 *
 * @throws TypeError for an empty or overlong password, or parameters the vault would refuse or the
 *   device should not spend (see {@link argon2idParametersProblem}).
 */
export async function hashPassword(
  password: string,
  parameters: Argon2idParameters,
  options: HashPasswordOptions = {},
): Promise<Uint8Array> {
  const problem = argon2idParametersProblem(parameters);
  if (problem !== undefined) throw new TypeError(`Argon2id parameters refused: ${problem}`);
  if (typeof password !== "string" || password.length === 0)
    throw new TypeError("the password is empty");
  const bytes = encoder.encode(password);
  if (bytes.length > MAX_PASSWORD_BYTES) {
    bytes.fill(0);
    throw new TypeError(`the password is over ${MAX_PASSWORD_BYTES} bytes`);
  }
  try {
    return await deriveArgon2id(bytes, parameters, options);
  } finally {
    bytes.fill(0);
  }
}

/**
 * Argon2id with exactly the given parameters and no checks (for known-answer tests against the
 * reference implementation, whose vectors use costs below the vault's minimums).
 */
export async function deriveArgon2id(
  password: Uint8Array,
  parameters: Pick<Argon2idParameters, "memoryKib" | "iterations" | "parallelism" | "salt">,
  options: HashPasswordOptions = {},
): Promise<Uint8Array> {
  return argon2idAsync(password, parameters.salt, {
    m: parameters.memoryKib,
    t: parameters.iterations,
    p: parameters.parallelism,
    dkLen: ARGON2ID_OUTPUT_BYTES,
    version: ARGON2_VERSION,
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  });
}
