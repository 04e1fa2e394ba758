import { create } from "@bufbuild/protobuf";
import type { AttestationTrustStore } from "../../clients/sdk/attestation/index.js";
import { type PcrSet, PcrSetSchema } from "../../gen/vettid/attestation/v1/pcr_pb.js";
import { TABLES, type TableKey, tableName } from "../storage/tables.js";
import { ConfigurationError } from "./configuration-error.js";

/** The process environment, or a stand-in for it in tests. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** `VETTID_ENVIRONMENT`: the environment name (`tableName(environment, …)`). */
export const ENV_ENVIRONMENT = "VETTID_ENVIRONMENT";
/** `VETTID_NATS_URLS`: comma-separated NATS URLs the backend connects to. */
export const ENV_NATS_URLS = "VETTID_NATS_URLS";
/** `VETTID_MEMBER_NATS_URLS`: NATS URLs handed to apps; default {@link ENV_NATS_URLS}. */
export const ENV_MEMBER_NATS_URLS = "VETTID_MEMBER_NATS_URLS";
/** `VETTID_NATS_ACCOUNT_PUBLIC_KEY`: the VETTID account (`A…`) member JWTs belong to. */
export const ENV_NATS_ACCOUNT_PUBLIC_KEY = "VETTID_NATS_ACCOUNT_PUBLIC_KEY";
/** `VETTID_DYNAMODB_ENDPOINT`: a DynamoDB-compatible endpoint (dynalite); development only. */
export const ENV_DYNAMODB_ENDPOINT = "VETTID_DYNAMODB_ENDPOINT";
/**
 * `VETTID_ENCLAVE_PCR_SETS`: the accepted enclave builds, JSON
 * `[{"id":"2026.05.1","pcrs":{"0":"<96 hex>","1":"…","2":"…"}}]`.
 */
export const ENV_ENCLAVE_PCR_SETS = "VETTID_ENCLAVE_PCR_SETS";
/** `VETTID_DEV_ROOT_SHA256`: the dev NSM root to trust (development only, with the flag below). */
export const ENV_DEV_ROOT_SHA256 = "VETTID_DEV_ROOT_SHA256";
/** `VETTID_ALLOW_DEV_ROOT=true`: trust `VETTID_DEV_ROOT_SHA256` (development only). */
export const ENV_ALLOW_DEV_ROOT = "VETTID_ALLOW_DEV_ROOT";
/** `VETTID_ALLOW_UNATTESTED_DEVICES=true`: accept DEV_UNATTESTED devices (development only). */
export const ENV_ALLOW_UNATTESTED_DEVICES = "VETTID_ALLOW_UNATTESTED_DEVICES";
/** `VETTID_OPERATOR_KEYS_FILE`: the pinned operator control keys (enclave/control's file format). */
export const ENV_OPERATOR_KEYS_FILE = "VETTID_OPERATOR_KEYS_FILE";

/** The backend secrets (Secrets Manager in AWS; `cdk/lib/config/backend-access.ts`). */
export type BackendSecret =
  | "natsMemberSigningKey"
  | "natsBackendUser"
  | "devAccountTokenKey"
  | "adminTokens";

/** Where a secret comes from. */
export type SecretReference =
  | { readonly kind: "secrets-manager"; readonly arn: string }
  | { readonly kind: "file"; readonly path: string };

/** What every backend process reads first. */
export interface CommonConfig {
  readonly environment: string;
  /** Environments named `prod…` are production: development options are refused there. */
  readonly production: boolean;
  readonly dynamoEndpoint?: string;
}

/**
 * Reads `VETTID_ENVIRONMENT` (and checks every `VETTID_TABLE_<NAME>` the deployment set against
 * the name `tableName()` derives, so the code and the infrastructure cannot disagree silently).
 */
export function readCommonConfig(env: Environment): CommonConfig {
  const environment = required(env, ENV_ENVIRONMENT);
  try {
    tableName(environment, "members");
  } catch (error) {
    throw new ConfigurationError(`${ENV_ENVIRONMENT}: ${(error as Error).message}`);
  }
  const production = /^prod/.test(environment);
  for (const table of Object.keys(TABLES) as TableKey[]) {
    const variable = `VETTID_TABLE_${table.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()}`;
    const given = env[variable];
    if (given !== undefined && given !== tableName(environment, table)) {
      throw new ConfigurationError(
        `${variable} is ${JSON.stringify(given)}, but the code uses ${tableName(environment, table)} for environment ${environment}`,
      );
    }
  }
  const dynamoEndpoint = env[ENV_DYNAMODB_ENDPOINT];
  if (dynamoEndpoint !== undefined) {
    developmentOnly(production, ENV_DYNAMODB_ENDPOINT);
    url(ENV_DYNAMODB_ENDPOINT, dynamoEndpoint, ["http:", "https:"]);
  }
  return { environment, production, ...(dynamoEndpoint === undefined ? {} : { dynamoEndpoint }) };
}

/** A comma-separated list of NATS URLs (`nats://`, `tls://`, `ws://`, `wss://`), at least one. */
export function readNatsUrls(env: Environment, variable: string = ENV_NATS_URLS): string[] {
  const urls = required(env, variable)
    .split(",")
    .map((u) => u.trim())
    .filter((u) => u !== "");
  if (urls.length === 0) throw new ConfigurationError(`${variable} lists no URL`);
  for (const u of urls) url(variable, u, ["nats:", "tls:", "ws:", "wss:"]);
  return urls;
}

/** A public key of the given nkey kind (checked by prefix and length; the nkeys CRC by use). */
export function readPublicNkey(env: Environment, variable: string, prefix: "A" | "U"): string {
  const value = required(env, variable);
  if (!new RegExp(`^${prefix}[A-Z2-7]{55}$`).test(value)) {
    throw new ConfigurationError(`${variable} must be a public nkey starting with ${prefix}`);
  }
  return value;
}

/**
 * Where a secret comes from: `VETTID_SECRET_<NAME>_ARN` (Secrets Manager, read through the Lambda
 * extension) or, outside production, `VETTID_SECRET_<NAME>_FILE` (a local file).
 */
export function readSecretReference(
  env: Environment,
  secret: BackendSecret,
  production: boolean,
): SecretReference {
  const base = `VETTID_SECRET_${secret.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()}`;
  const arn = env[`${base}_ARN`];
  if (arn !== undefined) {
    if (!/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/.test(arn)) {
      throw new ConfigurationError(`${base}_ARN is not a Secrets Manager secret ARN`);
    }
    return { kind: "secrets-manager", arn };
  }
  const path = env[`${base}_FILE`];
  if (path !== undefined) {
    developmentOnly(production, `${base}_FILE`);
    return { kind: "file", path };
  }
  throw new ConfigurationError(`${base}_ARN is required`);
}

/** A `true`/`false` flag that may be true only outside production. Default false. */
export function readDevelopmentFlag(
  env: Environment,
  variable: string,
  production: boolean,
): boolean {
  const value = env[variable];
  if (value === undefined || value === "" || value === "false") return false;
  if (value !== "true") throw new ConfigurationError(`${variable} must be true or false`);
  developmentOnly(production, variable);
  return true;
}

/** The accepted enclave builds from {@link ENV_ENCLAVE_PCR_SETS}; at least one set. */
export function readPcrSets(env: Environment): PcrSet[] {
  const text = required(env, ENV_ENCLAVE_PCR_SETS);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigurationError(`${ENV_ENCLAVE_PCR_SETS} is not JSON`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new ConfigurationError(`${ENV_ENCLAVE_PCR_SETS} must be a non-empty JSON array of sets`);
  }
  return parsed.map((entry: unknown, index) => {
    const { id, pcrs } = (entry ?? {}) as { id?: unknown; pcrs?: unknown };
    if (typeof id !== "string" || id === "" || typeof pcrs !== "object" || pcrs === null) {
      throw new ConfigurationError(`${ENV_ENCLAVE_PCR_SETS}[${index}] needs an "id" and "pcrs"`);
    }
    const values: Record<number, Uint8Array> = {};
    for (const [key, hex] of Object.entries(pcrs)) {
      const pcr = Number(key);
      if (
        !Number.isInteger(pcr) ||
        pcr < 0 ||
        pcr > 31 ||
        typeof hex !== "string" ||
        !/^[0-9a-f]{96}$/.test(hex)
      ) {
        throw new ConfigurationError(
          `${ENV_ENCLAVE_PCR_SETS}[${index}].pcrs.${key} must be PCR 0-31 → 96 lowercase hex digits`,
        );
      }
      values[pcr] = new Uint8Array(Buffer.from(hex, "hex"));
    }
    return create(PcrSetSchema, { id, pcrs: values });
  });
}

/** The value of a required variable. */
export function required(env: Environment, variable: string): string {
  const value = env[variable];
  if (value === undefined || value === "") throw new ConfigurationError(`${variable} is required`);
  return value;
}

/** Refuses a development option in production. */
export function developmentOnly(production: boolean, variable: string): void {
  if (production) {
    throw new ConfigurationError(
      `${variable} is a development option and is refused in production`,
    );
  }
}

function url(variable: string, value: string, schemes: readonly string[]): void {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigurationError(`${variable}: ${JSON.stringify(value)} is not a URL`);
  }
  if (!schemes.includes(parsed.protocol)) {
    throw new ConfigurationError(
      `${variable}: ${JSON.stringify(value)} must use ${schemes.join(" or ")}`,
    );
  }
}

/**
 * What the backend trusts in enclave attestations: the PCR sets ({@link ENV_ENCLAVE_PCR_SETS})
 * and, outside production, a dev root ({@link ENV_ALLOW_DEV_ROOT} with {@link ENV_DEV_ROOT_SHA256}).
 */
export function readEnclaveTrust(env: Environment, production: boolean): AttestationTrustStore {
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
