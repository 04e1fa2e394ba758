export { ConfigurationError } from "./configuration-error.js";
export type {
  BackendSecret,
  CommonConfig,
  Environment,
  SecretReference,
} from "./environment-variables.js";
export {
  developmentOnly,
  ENV_ALLOW_DEV_ROOT,
  ENV_ALLOW_UNATTESTED_DEVICES,
  ENV_DEV_ROOT_SHA256,
  ENV_DYNAMODB_ENDPOINT,
  ENV_ENCLAVE_PCR_SETS,
  ENV_ENVIRONMENT,
  ENV_MEMBER_NATS_URLS,
  ENV_NATS_ACCOUNT_PUBLIC_KEY,
  ENV_NATS_URLS,
  ENV_OPERATOR_KEYS_FILE,
  readCommonConfig,
  readDevelopmentFlag,
  readEnclaveTrust,
  readNatsUrls,
  readPcrSets,
  readPublicNkey,
  readSecretReference,
  required,
} from "./environment-variables.js";
export type { ReadSecretOptions } from "./secrets.js";
export { DEFAULT_SECRETS_EXTENSION_PORT, readSecret } from "./secrets.js";
