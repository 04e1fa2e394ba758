import { type App, type Environment, Tags, Validations } from "aws-cdk-lib";
import cdkNag from "cdk-nag";
import type { EnvironmentConfig } from "./config/environment-config.js";
import { stackName } from "./config/names.js";
import { InfrastructureStack } from "./stacks/infrastructure-stack.js";
import { NetworkStack } from "./stacks/network-stack.js";
import { VaultApiStack } from "./stacks/vault-api-stack.js";

/** The stacks of one environment, for tests and outputs. */
export interface VettidStacks {
  readonly infrastructure: InfrastructureStack;
  readonly network: NetworkStack;
  readonly vaultApi: VaultApiStack;
}

/**
 * Adds one environment's stacks to `app`, wired together, with cdk-nag's AwsSolutions checks on
 * every stack and the `vettid:environment` tag on every resource.
 */
export function addVettidStacks(app: App, config: EnvironmentConfig): VettidStacks {
  const env: Environment = {
    region: config.region,
    ...(config.account === undefined ? {} : { account: config.account }),
  };
  const name = (concern: string) => stackName(config.name, concern);
  const infrastructure = new InfrastructureStack(app, name("infrastructure"), {
    env,
    config,
    description: "VettID stateful resources: DynamoDB tables, KMS keys, S3 buckets, NATS secrets.",
  });
  const network = new NetworkStack(app, name("network"), {
    env,
    config,
    description: "VettID VPC.",
  });
  const vaultApi = new VaultApiStack(app, name("vault-api"), {
    env,
    config,
    resources: infrastructure,
    description: "VettID backend Lambdas behind the HTTP API.",
  });
  Tags.of(app).add("vettid:environment", config.name);
  Validations.of(app).addPlugins(new cdkNag.AwsSolutionsChecks(app, { verbose: true }));
  return { infrastructure, network, vaultApi };
}
