export {
  ARGON2_VERSION,
  ARGON2ID_OUTPUT_BYTES,
  argon2idParametersProblem,
  createArgon2idParameters,
  DEFAULT_ARGON2ID_ITERATIONS,
  DEFAULT_ARGON2ID_MEMORY_KIB,
  DEFAULT_ARGON2ID_PARALLELISM,
  DEFAULT_ARGON2ID_SALT_BYTES,
  MAX_ARGON2ID_ITERATIONS,
  MAX_ARGON2ID_MEMORY_KIB,
  MAX_ARGON2ID_PARALLELISM,
  MAX_ARGON2ID_SALT_BYTES,
  MIN_ARGON2ID_ITERATIONS,
  MIN_ARGON2ID_MEMORY_KIB,
  MIN_ARGON2ID_SALT_BYTES,
} from "./argon2id-parameters.js";
export type { HashPasswordOptions } from "./hash-password.js";
export { hashPassword, MAX_PASSWORD_BYTES } from "./hash-password.js";
export { createPasswordAuthorization, createPasswordSetup } from "./password-proofs.js";
export type { EncryptedPasswordHash } from "./utk-encryption.js";
export {
  encryptPasswordHash,
  PASSWORD_ENCRYPTION_INFO,
  PASSWORD_NONCE_BYTES,
} from "./utk-encryption.js";
