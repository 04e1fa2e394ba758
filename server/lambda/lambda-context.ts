import { fromSeed, type KeyPair } from "@nats-io/nkeys";
import type { AttestationTrustStore } from "../../clients/sdk/attestation/index.js";
import type { BackendServiceContext } from "../backend/index.js";
import {
  type CommonConfig,
  ConfigurationError,
  ENV_ALLOW_DEV_ROOT,
  ENV_ALLOW_UNATTESTED_DEVICES,
  ENV_DEV_ROOT_SHA256,
  type Environment,
  readDevelopmentFlag,
  readPcrSets,
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

/** What the backend trusts in enclave attestations: the PCR sets and, in development, a dev root. */
export function enclaveTrust(env: Environment, production: boolean): AttestationTrustStore {
  const pcrSets = readPcrSets(env);
  const allowDevRoot = readDevelopmentFlag(env, ENV_ALLOW_DEV_ROOT, production);
  const devRoot = env[ENV_DEV_ROOT_SHA256];
  if (allowDevRoot && (devRoot === undefined || !/^[0-9a-f]{64}$/.test(devRoot))) {
    throw new ConfigurationError(
      `${ENV_ALLOW_DEV_ROOT} needs ${ENV_DEV_ROOT_SHA256}: 64 lowercase hex digits`,
    );
  }
  return {
    pcrSets,
    ...(allowDevRoot && devRoot !== undefined ? { devRootSha256: devRoot, allowDevRoot } : {}),
  };
}

/** The member signing key from its secret (an account seed, `SA…`). */
export function memberSigningKeyFromSecret(secret: string): KeyPair {
  if (!/^SA[A-Z2-7]{56}$/.test(secret)) {
    throw new ConfigurationError("the member signing key secret must be an account seed (SA…)");
  }
  return fromSeed(new TextEncoder().encode(secret));
}
