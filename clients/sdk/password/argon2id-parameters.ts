import { create } from "@bufbuild/protobuf";
import {
  type Argon2idParameters,
  Argon2idParametersSchema,
} from "../../../gen/vettid/vault/v1/credential_pb.js";

/** The vault's minimum memory cost: 65536 KiB, 64 MiB (credential.proto, `Argon2idParameters`). */
export const MIN_ARGON2ID_MEMORY_KIB = 65_536;
/** The vault's minimum number of passes (credential.proto). */
export const MIN_ARGON2ID_ITERATIONS = 3;
/** Lanes the vault accepts: 1 to 4 (credential.proto). */
export const MAX_ARGON2ID_PARALLELISM = 4;
/** Salt length the vault accepts: 16 to 64 bytes (credential.proto). */
export const MIN_ARGON2ID_SALT_BYTES = 16;
export const MAX_ARGON2ID_SALT_BYTES = 64;
/** The hash is always 32 bytes (credential.proto). */
export const ARGON2ID_OUTPUT_BYTES = 32;
/** Argon2 version 1.3 (0x13 = 19), the only one the vault takes. */
export const ARGON2_VERSION = 0x13;

/**
 * Memory cost the SDK chooses for a new password: the vault's minimum, 64 MiB. It is RFC 9106's
 * second recommended option (§4, for memory-constrained devices), and what a phone can spend
 * without being killed for memory; the cost that matters against guessing is the vault's attempt
 * limit (5 wrong passwords, then an hour's lockout).
 */
export const DEFAULT_ARGON2ID_MEMORY_KIB = MIN_ARGON2ID_MEMORY_KIB;
/** Passes the SDK chooses: 3, RFC 9106 §4's second recommended option. */
export const DEFAULT_ARGON2ID_ITERATIONS = 3;
/**
 * Lanes the SDK chooses: 1. RFC 9106 §4 suggests 4, but libsodium's `crypto_pwhash` (what many
 * iOS apps use, through Swift-Sodium) computes one lane only, and the parameters chosen at
 * enrollment are the ones every later device must hash with (also after a restore onto another
 * platform). One lane costs the same memory; it only forgoes multi-core speed on the device.
 */
export const DEFAULT_ARGON2ID_PARALLELISM = 1;
/** Salt the SDK chooses: 16 random bytes (RFC 9106 §3.1: 128 bits suffice). */
export const DEFAULT_ARGON2ID_SALT_BYTES = 16;

/** Largest memory cost the SDK agrees to spend when the vault hands parameters back: 1 GiB. */
export const MAX_ARGON2ID_MEMORY_KIB = 1024 * 1024;
/** Most passes the SDK agrees to spend: 64 (a hostile vault must not make the app hash forever). */
export const MAX_ARGON2ID_ITERATIONS = 64;

/**
 * New Argon2id parameters for a new password (enrollment, ChangePassword): a fresh random salt
 * and the `DEFAULT_ARGON2ID_*` costs unless given.
 */
export function createArgon2idParameters(
  options: {
    readonly memoryKib?: number;
    readonly iterations?: number;
    readonly parallelism?: number;
    readonly salt?: Uint8Array;
  } = {},
): Argon2idParameters {
  const parameters = create(Argon2idParametersSchema, {
    memoryKib: options.memoryKib ?? DEFAULT_ARGON2ID_MEMORY_KIB,
    iterations: options.iterations ?? DEFAULT_ARGON2ID_ITERATIONS,
    parallelism: options.parallelism ?? DEFAULT_ARGON2ID_PARALLELISM,
    salt:
      options.salt?.slice() ?? crypto.getRandomValues(new Uint8Array(DEFAULT_ARGON2ID_SALT_BYTES)),
    outputLength: ARGON2ID_OUTPUT_BYTES,
    version: ARGON2_VERSION,
  });
  const problem = argon2idParametersProblem(parameters);
  if (problem !== undefined) throw new TypeError(problem);
  return parameters;
}

/**
 * What is wrong with Argon2id parameters, or undefined when the vault accepts them and the device
 * can afford them: memory 64 MiB to 1 GiB (and at least 8 KiB per lane), 3 to 64 passes, 1 to 4
 * lanes, a 16–64-byte salt, 32-byte output, version 19.
 */
export function argon2idParametersProblem(
  parameters: Argon2idParameters | undefined,
): string | undefined {
  if (parameters === undefined) return "Argon2id parameters are missing";
  const { memoryKib, iterations, parallelism, salt, outputLength, version } = parameters;
  if (memoryKib < MIN_ARGON2ID_MEMORY_KIB)
    return `memory_kib is ${memoryKib}; the vault requires at least ${MIN_ARGON2ID_MEMORY_KIB}`;
  if (memoryKib > MAX_ARGON2ID_MEMORY_KIB)
    return `memory_kib is ${memoryKib}; the SDK spends at most ${MAX_ARGON2ID_MEMORY_KIB}`;
  if (iterations < MIN_ARGON2ID_ITERATIONS)
    return `iterations is ${iterations}; the vault requires at least ${MIN_ARGON2ID_ITERATIONS}`;
  if (iterations > MAX_ARGON2ID_ITERATIONS)
    return `iterations is ${iterations}; the SDK spends at most ${MAX_ARGON2ID_ITERATIONS}`;
  if (parallelism < 1 || parallelism > MAX_ARGON2ID_PARALLELISM)
    return `parallelism is ${parallelism}; it must be 1 to ${MAX_ARGON2ID_PARALLELISM}`;
  if (
    !(salt instanceof Uint8Array) ||
    salt.length < MIN_ARGON2ID_SALT_BYTES ||
    salt.length > MAX_ARGON2ID_SALT_BYTES
  ) {
    return `salt is ${salt?.length ?? 0} bytes; it must be ${MIN_ARGON2ID_SALT_BYTES} to ${MAX_ARGON2ID_SALT_BYTES}`;
  }
  if (outputLength !== ARGON2ID_OUTPUT_BYTES)
    return `output_length is ${outputLength}; it must be ${ARGON2ID_OUTPUT_BYTES}`;
  if (version !== ARGON2_VERSION)
    return `version is ${version}; it must be ${ARGON2_VERSION} (Argon2 1.3)`;
  return undefined;
}
