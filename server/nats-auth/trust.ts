import { createAccount as createAccountKey } from "@nats-io/nkeys";
import {
  createSystemAccount,
  createVettidAccount,
  type SystemAccount,
  type VettidAccount,
} from "./account.js";
import type { MemberUserLimits } from "./member-user.js";
import { createOperator, type NatsOperator } from "./operator.js";
import { operatorModeConfig } from "./server-config.js";

/** Everything nats-server trusts in operator mode: the operator and both accounts, with keys. */
export interface NatsTrust {
  readonly operator: NatsOperator;
  readonly systemAccount: SystemAccount;
  readonly account: VettidAccount;
  /** {@link operatorModeConfig} for these JWTs (pass a newer VETTID JWT after revocations). */
  serverConfig(accountJwt?: string): string;
}

/**
 * Creates a fresh operator, system account and VETTID account (new keys, signed JWTs) for the
 * local stack and the tests. Production creates them once, keeps the seeds in KMS-protected
 * storage and rebuilds the configuration from the stored JWTs.
 */
export async function createNatsTrust(
  options: { readonly memberLimits?: Partial<MemberUserLimits> } = {},
): Promise<NatsTrust> {
  const systemAccountKey = createAccountKey();
  const operator = await createOperator({
    systemAccountPublicKey: systemAccountKey.getPublicKey(),
  });
  const systemAccount = await createSystemAccount({
    operatorSigningKey: operator.signingKey,
    identityKey: systemAccountKey,
  });
  const account = await createVettidAccount({
    operatorSigningKey: operator.signingKey,
    ...(options.memberLimits === undefined ? {} : { memberLimits: options.memberLimits }),
  });
  return {
    operator,
    systemAccount,
    account,
    serverConfig: (accountJwt = account.jwt) =>
      operatorModeConfig({
        operatorJwt: operator.jwt,
        systemAccountJwt: systemAccount.jwt,
        accountJwts: [accountJwt],
      }),
  };
}
