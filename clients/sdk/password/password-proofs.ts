import { create } from "@bufbuild/protobuf";
import {
  type Argon2idParameters,
  type PasswordAuthorization,
  PasswordAuthorizationSchema,
  type PasswordSetup,
  PasswordSetupSchema,
  type ProteanCredential,
  type StartPasswordChallengeResponse,
  type UserTransactionKey,
} from "../../../gen/vettid/vault/v1/credential_pb.js";
import { createArgon2idParameters } from "./argon2id-parameters.js";
import { type HashPasswordOptions, hashPassword } from "./hash-password.js";
import { encryptPasswordHash } from "./utk-encryption.js";

/**
 * Builds the PasswordAuthorization for one sensitive operation, from the vault's challenge
 * (StartPasswordChallenge for that very operation): hashes the password with the challenge's
 * parameters, encrypts the hash to the challenge's UTK with the challenge id as aad, and attaches
 * the current credential. The hash is wiped afterwards.
 *
 * @throws TypeError when the challenge is incomplete or its parameters are refused.
 */
export async function createPasswordAuthorization(options: {
  readonly challenge: StartPasswordChallengeResponse;
  readonly password: string;
  /** The current Protean Credential; omitted only for BackupService.CompleteRestore. */
  readonly credential: ProteanCredential | undefined;
  readonly onProgress?: HashPasswordOptions["onProgress"];
}): Promise<PasswordAuthorization> {
  const { challenge } = options;
  if (challenge.challengeId === "") throw new TypeError("the challenge has no challenge_id");
  const utk = challenge.utk;
  if (utk === undefined || utk.utkId === "") throw new TypeError("the challenge names no UTK");
  if (challenge.parameters === undefined)
    throw new TypeError("the challenge has no Argon2id parameters");
  const hash = await hashPassword(options.password, challenge.parameters, progressOf(options));
  try {
    return create(PasswordAuthorizationSchema, {
      challengeId: challenge.challengeId,
      utkId: utk.utkId,
      ...encryptPasswordHash(hash, utk.publicKey, challenge.challengeId),
      ...(options.credential === undefined ? {} : { credential: options.credential }),
    });
  } finally {
    hash.fill(0);
  }
}

/**
 * Builds a PasswordSetup for a new password (ChangePassword): new parameters with a fresh salt
 * (unless given), the hash encrypted to `utk` from the app's pool with the UTK id as aad.
 */
export async function createPasswordSetup(options: {
  readonly utk: UserTransactionKey;
  readonly password: string;
  readonly parameters?: Argon2idParameters;
  readonly onProgress?: HashPasswordOptions["onProgress"];
}): Promise<PasswordSetup> {
  if (options.utk.utkId === "") throw new TypeError("the UTK has no id");
  const parameters = options.parameters ?? createArgon2idParameters();
  const hash = await hashPassword(options.password, parameters, progressOf(options));
  try {
    return create(PasswordSetupSchema, {
      utkId: options.utk.utkId,
      ...encryptPasswordHash(hash, options.utk.publicKey, options.utk.utkId),
      parameters,
    });
  } finally {
    hash.fill(0);
  }
}

function progressOf(options: {
  readonly onProgress?: (fraction: number) => void;
}): HashPasswordOptions {
  return options.onProgress === undefined ? {} : { onProgress: options.onProgress };
}
