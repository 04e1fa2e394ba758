import { encodeOperator } from "@nats-io/jwt";
import { createOperator as createOperatorKey, type KeyPair } from "@nats-io/nkeys";
import { requirePublicNkey, requireSigningKeyPair } from "./validation.js";

/** Name written into the operator JWT (shown in nats-server's start-up log). */
export const DEFAULT_OPERATOR_NAME = "VettID";

/**
 * The NATS operator: the root of trust nats-server is configured with (`operator:` in its config).
 * Every account JWT must be signed by one of its keys.
 */
export interface NatsOperator {
  readonly name: string;
  /** The operator's identity (`O…`), the `sub` of its JWT. */
  readonly publicKey: string;
  /**
   * Identity key: signs only the operator JWT itself. Needed again only to add or rotate signing
   * keys, so production keeps it offline (KMS-wrapped, not in any Lambda).
   */
  readonly identityKey: KeyPair;
  /**
   * Signing key (`O…`), listed in the operator JWT: signs account JWTs — at set-up and on every
   * revocation. Held by the one backend function that revokes users.
   */
  readonly signingKey: KeyPair;
  /** The operator JWT for nats-server's `operator:` setting. */
  readonly jwt: string;
}

/** Options of {@link createOperator}. */
export interface CreateOperatorOptions {
  /** Default {@link DEFAULT_OPERATOR_NAME}. */
  readonly name?: string;
  /** Public key (`A…`) of the system account nats-server uses for its own traffic. */
  readonly systemAccountPublicKey: string;
  /** Existing identity key (to re-issue the JWT); default a new one. */
  readonly identityKey?: KeyPair;
  /** Existing signing key; default a new one. */
  readonly signingKey?: KeyPair;
}

/**
 * Creates (or re-issues) the operator: an identity key, a signing key, and a self-signed operator
 * JWT that lists the signing key and names the system account.
 */
export async function createOperator(options: CreateOperatorOptions): Promise<NatsOperator> {
  const name = options.name ?? DEFAULT_OPERATOR_NAME;
  const systemAccount = requirePublicNkey(
    "systemAccountPublicKey",
    options.systemAccountPublicKey,
    "A",
  );
  const identityKey = requireSigningKeyPair(
    "identityKey",
    options.identityKey ?? createOperatorKey(),
    "O",
  );
  const signingKey = requireSigningKeyPair(
    "signingKey",
    options.signingKey ?? createOperatorKey(),
    "O",
  );
  if (signingKey.getPublicKey() === identityKey.getPublicKey()) {
    throw new TypeError("signingKey must differ from identityKey (the identity key stays offline)");
  }
  const jwt = await encodeOperator(name, identityKey, {
    signing_keys: [signingKey.getPublicKey()],
    system_account: systemAccount,
  });
  return { name, publicKey: identityKey.getPublicKey(), identityKey, signingKey, jwt };
}
