import { Stack, type StackProps } from "aws-cdk-lib";
import { type IVpc, Peer, Port, SecurityGroup, SubnetType } from "aws-cdk-lib/aws-ec2";
import type { IRepository } from "aws-cdk-lib/aws-ecr";
import {
  Cluster,
  ContainerImage,
  ContainerInsights,
  CpuArchitecture,
  FargateService,
  FargateTaskDefinition,
  LogDrivers,
  OperatingSystemFamily,
} from "aws-cdk-lib/aws-ecs";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import {
  BACKEND_WORKERS,
  type BackendWorker,
  backendEnvironment,
} from "../config/backend-access.js";
import type { EnvironmentConfig } from "../config/environment-config.js";
import { resourcePrefix } from "../config/names.js";
import { suppress } from "../constructs/nag.js";
import { type BackendResources, grantResourceAccess } from "../constructs/resource-grants.js";
import { backendResourceNames } from "./vault-api-stack.js";

/** Props of {@link WorkersStack}. */
export interface WorkersStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly vpc: IVpc;
  readonly resources: BackendResources;
  /** The app image repository; the task runs the tag `config.release.version`. */
  readonly repository: IRepository;
  /** The worker definition; default {@link BACKEND_WORKERS}. */
  readonly worker?: BackendWorker;
}

/** Where the app image keeps the operators' pinned control keys (`cdk/docker/app.Dockerfile`). */
export const OPERATOR_KEYS_FILE = "/app/config/operator-keys";

/** `VETTID_OPERATOR_KEYS_FILE`: the workers verify operator control commands with these keys. */
export const ENV_OPERATOR_KEYS_FILE = "VETTID_OPERATOR_KEYS_FILE";

/** The container's command: the workers' entry, bundled into the app image (`cdk/docker/app.Dockerfile`). */
export const WORKERS_COMMAND: readonly string[] = [
  "node",
  "--enable-source-maps",
  "dist/workers.mjs",
];

/**
 * The backend's long-running NATS workers (`server/workers/main.ts`: vote intake, subscription
 * statements, control audit, vote-list publication) as an ECS Fargate service. Fargate rather
 * than the NATS nodes: the workers hold backend credentials and table/KMS access, which the
 * internet-facing nats-server must not share (a task role is per task), and they scale on their
 * own (NATS queue groups share the work between tasks). No inbound traffic at all: the workers
 * only connect out, to NATS and to AWS APIs.
 */
export class WorkersStack extends Stack {
  readonly cluster: Cluster;
  readonly service: FargateService;
  readonly task: FargateTaskDefinition;

  constructor(scope: Construct, id: string, props: WorkersStackProps) {
    super(scope, id, props);
    const { config, vpc, resources } = props;
    const worker = props.worker ?? BACKEND_WORKERS;
    const prefix = resourcePrefix(config.name);

    this.cluster = new Cluster(this, "Cluster", {
      vpc,
      clusterName: `${prefix}-workers`,
      containerInsightsV2: ContainerInsights.ENABLED,
    });
    this.task = new FargateTaskDefinition(this, "Task", {
      cpu: config.workers.cpu,
      memoryLimitMiB: config.workers.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: CpuArchitecture.ARM64,
        operatingSystemFamily: OperatingSystemFamily.LINUX,
      },
    });
    grantResourceAccess(this.task.taskRole, worker, resources);
    const logs = new LogGroup(this, "Logs", { retention: config.logRetentionDays });
    this.task.addContainer("workers", {
      image: ContainerImage.fromEcrRepository(props.repository, config.release.version),
      essential: true,
      command: [...WORKERS_COMMAND],
      environment: {
        ...backendEnvironment(worker, backendResourceNames(this, config, resources)),
        [ENV_OPERATOR_KEYS_FILE]: OPERATOR_KEYS_FILE,
      },
      readonlyRootFilesystem: true,
      user: "node",
      logging: LogDrivers.awsLogs({ logGroup: logs, streamPrefix: "workers" }),
    });

    const securityGroup = new SecurityGroup(this, "SecurityGroup", {
      vpc,
      description: "Backend workers: no inbound; HTTPS out to NATS (443) and AWS APIs.",
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(Peer.anyIpv4(), Port.tcp(443), "NATS (TLS 443) and AWS APIs");

    this.service = new FargateService(this, "Service", {
      cluster: this.cluster,
      serviceName: `${prefix}-workers`,
      taskDefinition: this.task,
      desiredCount: config.workers.desiredCount,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [securityGroup],
      assignPublicIp: false,
      minHealthyPercent: 100,
      circuitBreaker: { rollback: true },
    });

    suppress(this.task.obtainExecutionRole(), [
      [
        "AwsSolutions-IAM5[Resource::*]",
        "ecr:GetAuthorizationToken has no resource-level permissions; image pulls themselves are limited to the app repository.",
      ],
    ]);
    suppress(this.task, [
      [
        "AwsSolutions-ECS2",
        "The environment variables are resource names and ARNs (tables, buckets, keys, secret ARNs), not secrets; secret values are fetched at run time with the task role.",
      ],
    ]);
  }
}
