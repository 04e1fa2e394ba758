/**
 * The Protean Credential inside the vault: creation, the CEK and its rotation, the UTK pool and
 * password challenges (`proto/vettid/vault/v1/credential.proto`). Functions over the open vault
 * database; the caller commits.
 */
import { randomUUID } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ed25519 } from "@noble/curves/ed25519.js";
import {
  type CredentialContents,
  CredentialContentsSchema,
} from "../../gen/vettid/enclave/v1/vault_record_pb.js";
import {
  type Argon2idParameters,
  Argon2idParametersSchema,
  type CredentialEncryptionKey,
  CredentialEncryptionKeySchema,
  type PasswordAuthorization,
  type PasswordSetup,
  type ProteanCredential,
  ProteanCredentialSchema,
  type RotatedCredential,
  RotatedCredentialSchema,
  type UserTransactionKey,
  UserTransactionKeySchema,
} from "../../gen/vettid/vault/v1/credential_pb.js";
import {
  ChallengeRejectedDetailSchema,
  ChallengeRejection,
  PasswordRejectedDetailSchema,
  StaleCredentialDetailSchema,
} from "../../gen/vettid/vault/v1/errors_pb.js";
import {
  decryptPasswordHash,
  decryptWithCek,
  encryptToCek,
  generateX25519KeyPair,
  sameHash,
} from "./credential-crypto.js";
import { readMeta, type VaultDatabase, writeMeta } from "./vault-database.js";

/** Unused UTKs a new vault issues at Bootstrap, and the default pool size. */
export const INITIAL_UTK_COUNT = 10;
/** Largest UTK pool ReplenishUtks builds. */
export const MAX_UTK_POOL = 20;
/** How long a password challenge stays usable: 5 minutes (credential.proto). */
export const CHALLENGE_TTL_MS = 5 * 60 * 1000;
/** Wrong passwords allowed before the password lockout. */
export const MAX_PASSWORD_ATTEMPTS = 5;
/** Length of a password lockout. */
export const PASSWORD_LOCKOUT_MS = 60 * 60 * 1000;
/** Argon2id minimums the vault enforces (credential.proto). */
export const ARGON2ID_MINIMUMS = { memoryKib: 65536, iterations: 3 } as const;

/** The operations that take a PasswordAuthorization, by Connect procedure path. */
export const PASSWORD_OPERATIONS: ReadonlySet<string> = new Set([
  "/vettid.vault.v1.CredentialService/ChangePassword",
  "/vettid.vault.v1.CredentialService/RotateCek",
  "/vettid.vault.v1.PinService/ChangePin",
  "/vettid.vault.v1.SecretsService/PutSecret",
  "/vettid.vault.v1.SecretsService/GetSecret",
  "/vettid.vault.v1.SecretsService/DeleteSecret",
  "/vettid.vault.v1.VotingService/CastVote",
]);

interface CekRow {
  key_id: string;
  version: number;
  public_key: Uint8Array;
  private_key: Uint8Array;
  created_at_ms: number;
}

/** Checks Argon2id parameters against the vault's minimums; `invalid_argument` naming the field. */
export function requireArgon2idParameters(
  parameters: Argon2idParameters | undefined,
  field: string,
): Argon2idParameters {
  if (parameters === undefined) {
    throw new ConnectError(`${field} is required`, Code.InvalidArgument);
  }
  const problems: string[] = [];
  if (parameters.memoryKib < ARGON2ID_MINIMUMS.memoryKib)
    problems.push(`memory_kib below ${ARGON2ID_MINIMUMS.memoryKib}`);
  if (parameters.iterations < ARGON2ID_MINIMUMS.iterations)
    problems.push(`iterations below ${ARGON2ID_MINIMUMS.iterations}`);
  if (parameters.parallelism < 1 || parameters.parallelism > 4)
    problems.push("parallelism not 1-4");
  if (parameters.salt.length < 16 || parameters.salt.length > 64)
    problems.push("salt not 16-64 bytes");
  if (parameters.outputLength !== 32) problems.push("output_length not 32");
  if (parameters.version !== 19) problems.push("version not 19");
  if (problems.length > 0) {
    throw new ConnectError(
      `${field} are below the minimums or malformed: ${problems.join(", ")}`,
      Code.InvalidArgument,
    );
  }
  return parameters;
}

/**
 * Creates the member's identity key pair and CEK version 1 and returns the first credential.
 * The identity private key exists only inside the credential (encrypted to the CEK).
 */
export async function createCredential(
  db: VaultDatabase,
  input: {
    readonly ownerGuid: string;
    readonly passwordHash: Uint8Array;
    readonly parameters: Argon2idParameters;
    readonly now: number;
  },
): Promise<{ credential: ProteanCredential; cek: CredentialEncryptionKey }> {
  const { secretKey, publicKey } = ed25519.keygen();
  const contents = create(CredentialContentsSchema, {
    ownerGuid: input.ownerGuid,
    identityPrivateKey: secretKey,
    identityPublicKey: publicKey,
    passwordHash: input.passwordHash,
    passwordParameters: toBinary(Argon2idParametersSchema, input.parameters),
    createdAtMs: BigInt(input.now),
  });
  writeMeta(db, "identity_public_key", publicKey);
  writeMeta(db, "password_parameters", toBinary(Argon2idParametersSchema, input.parameters));
  writeMeta(db, "password_failures", "0");
  writeMeta(db, "password_locked_until_ms", "0");
  const cek = newCek(db, 1, input.now);
  const credential = await issueCredential(contents, cek, input.now);
  secretKey.fill(0);
  return { credential, cek: describeCek(cek) };
}

/** The current CEK (public half). */
export function currentCek(db: VaultDatabase): CredentialEncryptionKey {
  return describeCek(currentCekRow(db));
}

/** Issues UTKs until `target` are unused and returns every unused one (oldest first). */
export function replenishUtks(
  db: VaultDatabase,
  target: number,
  now: number,
): { utks: UserTransactionKey[]; issued: number } {
  const unused = (
    db.prepare("SELECT COUNT(*) AS n FROM utks WHERE challenge_id IS NULL").get() as { n: number }
  ).n;
  const insert = db.prepare(
    "INSERT INTO utks (utk_id, public_key, private_key, created_at_ms) VALUES (?, ?, ?, ?)",
  );
  let issued = 0;
  for (let i = unused; i < target; i++) {
    const pair = generateX25519KeyPair();
    insert.run(randomUUID(), pair.publicKey, pair.privateKey, now);
    issued += 1;
  }
  return { utks: unusedUtks(db), issued };
}

/** Every unused UTK (oldest first). */
export function unusedUtks(db: VaultDatabase): UserTransactionKey[] {
  const rows = db
    .prepare(
      "SELECT utk_id, public_key, created_at_ms FROM utks WHERE challenge_id IS NULL ORDER BY created_at_ms, utk_id",
    )
    .all() as { utk_id: string; public_key: Uint8Array; created_at_ms: number }[];
  return rows.map((row) =>
    create(UserTransactionKeySchema, {
      utkId: row.utk_id,
      publicKey: row.public_key,
      createdAtMs: BigInt(row.created_at_ms),
    }),
  );
}

/**
 * Opens a password challenge for `operation`, reserving one unused UTK (issuing one if the pool
 * is empty). Returns the Argon2id parameters the password must be hashed with.
 */
export function startChallenge(
  db: VaultDatabase,
  operation: string,
  now: number,
): {
  challengeId: string;
  utk: UserTransactionKey;
  expiresAtMs: number;
  parameters: Argon2idParameters;
  attemptsRemaining: number;
} {
  if (!PASSWORD_OPERATIONS.has(operation)) {
    throw new ConnectError(
      `operation ${JSON.stringify(operation)} does not take a password`,
      Code.InvalidArgument,
    );
  }
  let utk = unusedUtks(db)[0];
  if (utk === undefined) utk = replenishUtks(db, 1, now).utks[0];
  if (utk === undefined) throw new ConnectError("no UTK could be issued", Code.Internal);
  const challengeId = randomUUID();
  const expiresAtMs = now + CHALLENGE_TTL_MS;
  db.prepare("UPDATE utks SET challenge_id = ? WHERE utk_id = ?").run(challengeId, utk.utkId);
  db.prepare(
    "INSERT INTO challenges (challenge_id, operation, utk_id, expires_at_ms) VALUES (?, ?, ?, ?)",
  ).run(challengeId, operation, utk.utkId, expiresAtMs);
  return {
    challengeId,
    utk,
    expiresAtMs,
    parameters: passwordParameters(db),
    attemptsRemaining: MAX_PASSWORD_ATTEMPTS - Number(readMeta(db, "password_failures") ?? 0),
  };
}

/** The Argon2id parameters of the current password (public: they are handed to the app). */
export function passwordParameters(db: VaultDatabase): Argon2idParameters {
  const stored = readMeta(db, "password_parameters");
  if (!(stored instanceof Uint8Array)) {
    throw new ConnectError("the vault has no credential yet", Code.FailedPrecondition);
  }
  return fromBinary(Argon2idParametersSchema, stored);
}

/**
 * Opens a PasswordSetup (ChangePassword): its UTK must be unused and is consumed. Records the new
 * parameters.
 */
export function openPasswordSetup(
  db: VaultDatabase,
  setup: PasswordSetup | undefined,
): { hash: Uint8Array; parameters: Argon2idParameters } {
  if (setup === undefined) throw new ConnectError("new_password is required", Code.InvalidArgument);
  const parameters = requireArgon2idParameters(setup.parameters, "new_password.parameters");
  const utk = db
    .prepare("SELECT public_key, private_key FROM utks WHERE utk_id = ? AND challenge_id IS NULL")
    .get(setup.utkId) as { public_key: Uint8Array; private_key: Uint8Array } | undefined;
  if (utk === undefined) {
    throw new ConnectError(
      "new_password.utk_id is not an unused UTK of this vault",
      Code.FailedPrecondition,
    );
  }
  db.prepare("DELETE FROM utks WHERE utk_id = ?").run(setup.utkId);
  const hash = decryptPasswordHash(
    {
      ephemeralPublicKey: setup.ephemeralPublicKey,
      nonce: setup.nonce,
      ciphertext: setup.ciphertext,
      aad: setup.utkId,
    },
    { publicKey: utk.public_key, privateKey: utk.private_key },
  );
  utk.private_key.fill(0);
  if (hash === undefined || hash.length !== 32) {
    throw new ConnectError("new_password does not decrypt with its UTK", Code.InvalidArgument);
  }
  writeMeta(db, "password_parameters", toBinary(Argon2idParametersSchema, parameters));
  return { hash, parameters };
}

/** An authorized sensitive operation: the opened credential, and what to commit either way. */
export interface Authorized {
  readonly contents: CredentialContents;
}

/**
 * Checks a PasswordAuthorization for `operation`. The challenge and its UTK are consumed whatever
 * the outcome, so the caller must commit the database before replying — also when this throws
 * (`commitOnFailure` tells it to).
 *
 * @throws ConnectError `failed_precondition` (challenge problems, stale credential),
 *   `permission_denied` (wrong password), `invalid_argument` (malformed), each with its detail.
 */
export async function authorize(
  db: VaultDatabase,
  authorization: PasswordAuthorization | undefined,
  operation: string,
  now: number,
): Promise<Authorized> {
  if (authorization === undefined) {
    throw new ConnectError(`${operation} needs a PasswordAuthorization`, Code.InvalidArgument);
  }
  const lockedUntil = Number(readMeta(db, "password_locked_until_ms") ?? 0);
  if (lockedUntil > now) {
    throw passwordRejected(0, lockedUntil);
  }
  const challenge = db
    .prepare("SELECT * FROM challenges WHERE challenge_id = ?")
    .get(authorization.challengeId) as
    | { operation: string; utk_id: string; expires_at_ms: number; consumed: number }
    | undefined;
  if (challenge === undefined)
    throw challengeRejected(ChallengeRejection.UNKNOWN, authorization.challengeId);
  if (challenge.consumed !== 0)
    throw challengeRejected(ChallengeRejection.ALREADY_USED, authorization.challengeId);
  // Consumed from here on, whatever happens next: one challenge, one attempt.
  db.prepare("UPDATE challenges SET consumed = 1 WHERE challenge_id = ?").run(
    authorization.challengeId,
  );
  const utk = db
    .prepare("SELECT public_key, private_key FROM utks WHERE utk_id = ?")
    .get(challenge.utk_id) as { public_key: Uint8Array; private_key: Uint8Array } | undefined;
  db.prepare("DELETE FROM utks WHERE utk_id = ?").run(challenge.utk_id);
  if (challenge.expires_at_ms <= now)
    throw challengeRejected(ChallengeRejection.EXPIRED, authorization.challengeId);
  if (challenge.operation !== operation)
    throw challengeRejected(ChallengeRejection.WRONG_OPERATION, authorization.challengeId);
  if (challenge.utk_id !== authorization.utkId || utk === undefined) {
    throw challengeRejected(ChallengeRejection.WRONG_UTK, authorization.challengeId);
  }
  if (authorization.credential === undefined) {
    throw new ConnectError("authorization.credential is required", Code.InvalidArgument);
  }
  const opened = await openCredential(db, authorization.credential);
  const hash = decryptPasswordHash(
    {
      ephemeralPublicKey: authorization.ephemeralPublicKey,
      nonce: authorization.nonce,
      ciphertext: authorization.ciphertext,
      aad: authorization.challengeId,
    },
    { publicKey: utk.public_key, privateKey: utk.private_key },
  );
  utk.private_key.fill(0);
  if (hash === undefined)
    throw challengeRejected(ChallengeRejection.UNDECRYPTABLE, authorization.challengeId);
  const right = sameHash(hash, opened.contents.passwordHash);
  hash.fill(0);
  if (!right) {
    const failures = Number(readMeta(db, "password_failures") ?? 0) + 1;
    if (failures >= MAX_PASSWORD_ATTEMPTS) {
      writeMeta(db, "password_failures", "0");
      writeMeta(db, "password_locked_until_ms", String(now + PASSWORD_LOCKOUT_MS));
      throw passwordRejected(0, now + PASSWORD_LOCKOUT_MS);
    }
    writeMeta(db, "password_failures", String(failures));
    throw passwordRejected(MAX_PASSWORD_ATTEMPTS - failures, 0);
  }
  writeMeta(db, "password_failures", "0");
  return { contents: opened.contents };
}

/** Rotates the CEK and re-encrypts the credential to it (every sensitive operation does). */
export async function rotateCek(
  db: VaultDatabase,
  contents: CredentialContents,
  now: number,
): Promise<RotatedCredential> {
  const previous = currentCekRow(db);
  const next = newCek(db, previous.version + 1, now);
  db.prepare("DELETE FROM ceks WHERE key_id = ?").run(previous.key_id);
  const credential = await issueCredential(contents, next, now);
  return create(RotatedCredentialSchema, {
    credential,
    cek: describeCek(next),
    previousCekVersion: BigInt(previous.version),
    rotatedAtMs: BigInt(now),
  });
}

/** Replaces the password hash inside the contents (ChangePassword). */
export function withPassword(
  contents: CredentialContents,
  passwordHash: Uint8Array,
  parameters: Argon2idParameters,
): CredentialContents {
  return create(CredentialContentsSchema, {
    ...contents,
    passwordHash,
    passwordParameters: toBinary(Argon2idParametersSchema, parameters),
  });
}

/**
 * Decrypts a presented credential with the current CEK.
 *
 * @throws ConnectError `failed_precondition` + StaleCredentialDetail for another CEK version,
 *   `invalid_argument` when it does not open.
 */
export async function openCredential(
  db: VaultDatabase,
  credential: ProteanCredential,
): Promise<{ contents: CredentialContents; parameters: Argon2idParameters }> {
  const cek = currentCekRow(db);
  if (credential.cekVersion !== BigInt(cek.version) || credential.cekKeyId !== cek.key_id) {
    throw new ConnectError(
      `the credential is for CEK version ${credential.cekVersion}, the vault is at ${cek.version}: use the newest RotatedCredential`,
      Code.FailedPrecondition,
      undefined,
      [
        {
          desc: StaleCredentialDetailSchema,
          value: {
            presentedCekVersion: credential.cekVersion,
            currentCekVersion: BigInt(cek.version),
          },
        },
      ],
    );
  }
  const plain = await decryptWithCek(
    credential.encryptedBlob,
    { publicKey: cek.public_key, privateKey: cek.private_key },
    cek.key_id,
  );
  if (plain === undefined) {
    throw new ConnectError(
      "the credential does not open with the current CEK",
      Code.InvalidArgument,
    );
  }
  const contents = fromBinary(CredentialContentsSchema, plain);
  return {
    contents,
    parameters: fromBinary(Argon2idParametersSchema, contents.passwordParameters),
  };
}

function newCek(db: VaultDatabase, version: number, now: number): CekRow {
  const pair = generateX25519KeyPair();
  const row: CekRow = {
    key_id: randomUUID(),
    version,
    public_key: pair.publicKey,
    private_key: pair.privateKey,
    created_at_ms: now,
  };
  db.prepare(
    "INSERT INTO ceks (key_id, version, public_key, private_key, created_at_ms) VALUES (@key_id, @version, @public_key, @private_key, @created_at_ms)",
  ).run(row);
  writeMeta(db, "cek_version", String(version));
  return row;
}

function currentCekRow(db: VaultDatabase): CekRow {
  const row = db.prepare("SELECT * FROM ceks ORDER BY version DESC LIMIT 1").get() as
    | CekRow
    | undefined;
  if (row === undefined)
    throw new ConnectError("the vault has no credential yet", Code.FailedPrecondition);
  return row;
}

function describeCek(row: CekRow): CredentialEncryptionKey {
  return create(CredentialEncryptionKeySchema, {
    keyId: row.key_id,
    version: BigInt(row.version),
    publicKey: row.public_key,
    createdAtMs: BigInt(row.created_at_ms),
  });
}

async function issueCredential(
  contents: CredentialContents,
  cek: CekRow,
  now: number,
): Promise<ProteanCredential> {
  return create(ProteanCredentialSchema, {
    encryptedBlob: await encryptToCek(
      toBinary(CredentialContentsSchema, contents),
      cek.public_key,
      cek.key_id,
    ),
    cekKeyId: cek.key_id,
    cekVersion: BigInt(cek.version),
    identityPublicKey: contents.identityPublicKey,
    issuedAtMs: BigInt(now),
  });
}

function challengeRejected(reason: ChallengeRejection, challengeId: string): ConnectError {
  return new ConnectError(
    `password challenge refused: ${ChallengeRejection[reason].toLowerCase()}`,
    Code.FailedPrecondition,
    undefined,
    [{ desc: ChallengeRejectedDetailSchema, value: { reason, challengeId } }],
  );
}

function passwordRejected(attemptsRemaining: number, lockedUntilMs: number): ConnectError {
  return new ConnectError(
    lockedUntilMs > 0 ? "wrong password: password entry is locked for an hour" : "wrong password",
    Code.PermissionDenied,
    undefined,
    [
      {
        desc: PasswordRejectedDetailSchema,
        value: {
          attemptsRemaining,
          maxAttempts: MAX_PASSWORD_ATTEMPTS,
          lockedUntilMs: BigInt(lockedUntilMs),
        },
      },
    ],
  );
}
