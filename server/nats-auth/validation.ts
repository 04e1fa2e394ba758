import { Code, ConnectError } from "@connectrpc/connect";
import { fromPublic, type KeyPair } from "@nats-io/nkeys";
import { subjectTokenProblem } from "../../rpc/index.js";

/**
 * Length of a public nkey as a string: base32 of one prefix byte, 32 key bytes and a 2-byte CRC.
 */
export const PUBLIC_NKEY_LENGTH = 56;

/** What the first character of an nkey says it is (nkeys prefixes). */
const NKEY_KINDS: Readonly<Record<string, string>> = {
  O: "an operator key",
  A: "an account key",
  U: "a user key",
  N: "a server key",
  C: "a cluster key",
  X: "a curve (encryption) key",
  S: "a seed (a private key)",
  P: "a private key",
};

/** Shows at most 64 characters of a rejected value, quoted, so errors stay readable and bounded. */
export function quoted(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

/**
 * Checks a value that will become one NATS subject token (a member GUID, an enclave id) with the
 * RPC layer's rule, so a value can never widen a permission (`*`, `>`) or add tokens (`.`).
 * Throws `invalid_argument` naming the field.
 */
export function requireSubjectToken(field: string, value: unknown): string {
  if (typeof value !== "string") {
    throw new ConnectError(`${field} must be a string, got ${typeof value}`, Code.InvalidArgument);
  }
  const problem = subjectTokenProblem(value);
  if (problem !== undefined) {
    throw new ConnectError(
      `${field} ${problem}: ${quoted(value)} (it must be one NATS subject token: 1-128 characters of A-Z a-z 0-9 _ -)`,
      Code.InvalidArgument,
    );
  }
  return value;
}

/**
 * Checks that `value` is a public nkey of the given kind (`U` user, `A` account, `O` operator):
 * the right prefix, the right length and a valid checksum. A seed is refused with its own message,
 * since sending one means a private key left the device. Throws `invalid_argument` naming the field.
 */
export function requirePublicNkey(field: string, value: unknown, prefix: "U" | "A" | "O"): string {
  if (typeof value !== "string") {
    throw new ConnectError(`${field} must be a string, got ${typeof value}`, Code.InvalidArgument);
  }
  const wanted = NKEY_KINDS[prefix] ?? prefix;
  const first = value.charAt(0);
  if (first === "S") {
    throw new ConnectError(
      `${field} is a seed (a private key), not a public key: send the public key (${prefix}…) and keep the seed where it was made`,
      Code.InvalidArgument,
    );
  }
  if (first !== prefix) {
    const kind = NKEY_KINDS[first];
    throw new ConnectError(
      `${field} must be ${wanted} starting with "${prefix}", got ${kind === undefined ? "a value" : kind} starting with ${quoted(first)}`,
      Code.InvalidArgument,
    );
  }
  if (value.length !== PUBLIC_NKEY_LENGTH) {
    throw new ConnectError(
      `${field} is ${value.length} characters long; a public nkey has ${PUBLIC_NKEY_LENGTH}: ${quoted(value)}`,
      Code.InvalidArgument,
    );
  }
  try {
    fromPublic(value);
  } catch (error) {
    throw new ConnectError(
      `${field} is not a valid nkey (${error instanceof Error ? error.message : String(error)}): ${quoted(value)}`,
      Code.InvalidArgument,
    );
  }
  return value;
}

/**
 * Checks a key pair handed in as configuration (a signing key): it must be of the expected kind and
 * hold its private half. Throws a plain `TypeError` naming the option: a wrong key here is a
 * deployment mistake, not a caller's bad request.
 */
export function requireSigningKeyPair(option: string, key: KeyPair, prefix: "A" | "O"): KeyPair {
  let publicKey: string;
  try {
    publicKey = key.getPublicKey();
    key.getPrivateKey();
  } catch (error) {
    throw new TypeError(
      `${option} must be a key pair with its seed (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (!publicKey.startsWith(prefix)) {
    throw new TypeError(
      `${option} must be ${NKEY_KINDS[prefix]} (${prefix}…), got one starting with "${publicKey.charAt(0)}"`,
    );
  }
  return key;
}

/** Seconds since the Unix epoch for a time in milliseconds, as JWT `exp`/`iat` and revocations use. */
export function toUnixSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}
