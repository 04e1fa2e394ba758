import { type App, type Environment, Tags, Validations } from "aws-cdk-lib";
import cdkNag from "cdk-nag";
import type { EnvironmentConfig } from "./config/environment-config.js";
import { stackName } from "./config/names.js";
import { InfrastructureStack } from "./stacks/infrastructure-stack.js";
import { MonitoringStack } from "./stacks/monitoring-stack.js";
import { NatsStack } from "./stacks/nats-stack.js";
import { NetworkStack } from "./stacks/network-stack.js";
import { NitroStack } from "./stacks/nitro-stack.js";
import { VaultApiStack } from "./stacks/vault-api-stack.js";
import { WorkersStack } from "./stacks/workers-stack.js";

/** The stacks of one environment, for tests and outputs. */
export interface VettidStacks {
  readonly infrastructure: InfrastructureStack;
  readonly network: NetworkStack;
  readonly vaultApi: VaultApiStack;
  readonly nats: NatsStack;
  readonly workers: WorkersStack;
  readonly nitro: NitroStack;
  readonly monitoring: MonitoringStack;
}

/** Options of {@link addVettidStacks}. */
export interface AddVettidStacksOptions {
  /**
   * Run cdk-nag (AwsSolutions) at synth. Default true; the app always does. Only tests that
   * examine one stack's template turn it off, for speed (the whole-app test keeps it on).
   */
  readonly checks?: boolean;
}

/**
 * Adds one environment's stacks to `app`, wired together, with cdk-nag's AwsSolutions checks on
 * every stack and the `vettid:environment` tag on every resource.
 */
export function addVettidStacks(
  app: App,
  config: EnvironmentConfig,
  options: AddVettidStacksOptions = {},
): VettidStacks {
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
  const nats = new NatsStack(app, name("nats"), {
    env,
    config,
    vpc: network.vpc,
    secrets: infrastructure.secrets,
    description: "VettID central NATS cluster (nats-server on Fargate, TLS on 443).",
  });
  const workers = new WorkersStack(app, name("workers"), {
    env,
    config,
    vpc: network.vpc,
    resources: infrastructure,
    repository: infrastructure.appRepository,
    description: "VettID backend NATS workers (ECS Fargate).",
  });
  const nitro = new NitroStack(app, name("nitro"), {
    env,
    config,
    vpc: network.vpc,
    sealingKey: infrastructure.sealingKey,
    parentCredentials: infrastructure.secrets.natsParentUser,
    natsUrl: nats.url,
    description: "VettID Nitro Enclave hosts (Auto Scaling group, parent and enclave).",
  });
  const monitoring = new MonitoringStack(app, name("monitoring"), {
    env,
    config,
    functions: vaultApi.functions,
    api: vaultApi.api,
    natsTargetGroup: nats.targetGroup,
    natsService: nats.service,
    workersService: workers.service,
    enclaveHosts: nitro.autoScalingGroup,
    sealingKey: infrastructure.sealingKey,
    description: "VettID dashboard and alarms.",
  });
  Tags.of(app).add("vettid:environment", config.name);
  if (options.checks ?? true) {
    Validations.of(app).addPlugins(new cdkNag.AwsSolutionsChecks(app, { verbose: true }));
  }
  return { infrastructure, network, vaultApi, nats, workers, nitro, monitoring };
}
