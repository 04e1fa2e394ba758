import { fromSeed, type KeyPair } from "@nats-io/nkeys";
import type { BackendServiceContext } from "../backend/index.js";
import {
  type CommonConfig,
  ConfigurationError,
  ENV_ALLOW_UNATTESTED_DEVICES,
  type Environment,
  readDevelopmentFlag,
} from "../config/index.js";
import { createDeviceAttestationVerifier } from "../enrollment/index.js";
import type { Logger } from "../logging/index.js";
import { createDynamoClient } from "../storage/index.js";

/** The service context every Lambda entry builds at cold start. */
export function lambdaServiceContext(
  common: CommonConfig,
  env: Environment,
  logger: Logger,
): BackendServiceContext {
  return {
    dynamo: {
      client: createDynamoClient(
        common.dynamoEndpoint === undefined ? {} : { endpoint: common.dynamoEndpoint },
      ),
      environment: common.environment,
    },
    devices: createDeviceAttestationVerifier({
      allowUnattested: readDevelopmentFlag(env, ENV_ALLOW_UNATTESTED_DEVICES, common.production),
    }),
    logger,
  };
}

/** The member signing key from its secret (an account seed, `SA…`). */
export function memberSigningKeyFromSecret(secret: string): KeyPair {
  if (!/^SA[A-Z2-7]{56}$/.test(secret)) {
    throw new ConfigurationError("the member signing key secret must be an account seed (SA…)");
  }
  return fromSeed(new TextEncoder().encode(secret));
}
