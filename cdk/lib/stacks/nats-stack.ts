import { CfnOutput, Duration, Stack, type StackProps } from "aws-cdk-lib";
import { type IVpc, Peer, Port, SecurityGroup, SubnetType } from "aws-cdk-lib/aws-ec2";
import {
  Cluster,
  ContainerImage,
  ContainerInsights,
  CpuArchitecture,
  Secret as EcsSecret,
  FargateService,
  FargateTaskDefinition,
  LogDrivers,
  OperatingSystemFamily,
  Protocol,
} from "aws-cdk-lib/aws-ecs";
import {
  Protocol as LbProtocol,
  NetworkLoadBalancer,
  type NetworkTargetGroup,
} from "aws-cdk-lib/aws-elasticloadbalancingv2";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import type { ISecret } from "aws-cdk-lib/aws-secretsmanager";
import { DnsRecordType, PrivateDnsNamespace } from "aws-cdk-lib/aws-servicediscovery";
import type { Construct } from "constructs";
import type { SecretKey } from "../config/backend-access.js";
import type { EnvironmentConfig } from "../config/environment-config.js";
import { resourcePrefix } from "../config/names.js";
import { suppress } from "../constructs/nag.js";
import {
  DEFAULT_NATS_LAME_DUCK_SECONDS,
  NATS_CLIENT_PORT,
  NATS_CLUSTER_PORT,
  NATS_MONITOR_PORT,
  NATS_PUBLIC_PORT,
  natsServerConfig,
  natsStartScript,
} from "../constructs/nats-server-config.js";

/** Props of {@link NatsStack}. */
export interface NatsStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly vpc: IVpc;
  /** The NATS secrets of the Infrastructure stack (server config and TLS are read here). */
  readonly secrets: Readonly<Record<SecretKey, ISecret>>;
}

/** Cloud Map name of the nodes (`nats.{namespace}`): one A record per running task, for routes. */
export const NATS_DISCOVERY_NAME = "nats";

/**
 * The central NATS cluster: nats-server on ECS Fargate (ARM64), one task per node in the private
 * subnets, TLS terminated by nats-server itself behind an internet-facing Network Load Balancer
 * that forwards TCP 443 to the client port (so apps verify the server's own certificate, and the
 * load balancer sees only ciphertext). Routes find each other through Cloud Map DNS. Operator
 * mode: the JWTs and resolver preload come from the `server-config` secret, written by the
 * operators from `server/nats-auth` (`operatorModeConfig()`), never from the template.
 */
export class NatsStack extends Stack {
  readonly cluster: Cluster;
  readonly service: FargateService;
  readonly loadBalancer: NetworkLoadBalancer;
  readonly targetGroup: NetworkTargetGroup;
  /** `tls://{publicHostname}:443`, what apps and services connect to. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: NatsStackProps) {
    super(scope, id, props);
    const { config, vpc, secrets } = props;
    const prefix = resourcePrefix(config.name);
    this.url = `tls://${config.nats.publicHostname}:${NATS_PUBLIC_PORT}`;

    this.cluster = new Cluster(this, "Cluster", {
      vpc,
      clusterName: `${prefix}-nats`,
      containerInsightsV2: ContainerInsights.ENABLED,
    });
    const namespace = new PrivateDnsNamespace(this, "Namespace", {
      name: `${prefix}.internal`,
      vpc,
      description: "Private names of the NATS nodes (routes).",
    });

    const task = new FargateTaskDefinition(this, "Task", {
      cpu: config.nats.cpu,
      memoryLimitMiB: config.nats.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: CpuArchitecture.ARM64,
        operatingSystemFamily: OperatingSystemFamily.LINUX,
      },
    });
    const logs = new LogGroup(this, "Logs", { retention: config.logRetentionDays });
    const routesHostname =
      config.nats.nodeCount > 1 ? `${NATS_DISCOVERY_NAME}.${namespace.namespaceName}` : undefined;
    const serverConfig = natsServerConfig({
      clusterName: prefix,
      publicHostname: config.nats.publicHostname,
      ...(routesHostname === undefined ? {} : { routesHostname }),
    });
    task.addContainer("nats", {
      image: ContainerImage.fromRegistry(config.nats.image),
      essential: true,
      entryPoint: ["/bin/sh", "-ec"],
      command: [natsStartScript(serverConfig)],
      secrets: {
        NATS_OPERATOR_CONFIG: EcsSecret.fromSecretsManager(secrets.natsServerConfig),
        NATS_TLS_CERT: EcsSecret.fromSecretsManager(secrets.natsTls, "cert"),
        NATS_TLS_KEY: EcsSecret.fromSecretsManager(secrets.natsTls, "key"),
      },
      portMappings: [
        { containerPort: NATS_CLIENT_PORT, protocol: Protocol.TCP, name: "client" },
        { containerPort: NATS_CLUSTER_PORT, protocol: Protocol.TCP, name: "cluster" },
        { containerPort: NATS_MONITOR_PORT, protocol: Protocol.TCP, name: "monitor" },
      ],
      healthCheck: {
        command: [
          "CMD-SHELL",
          `wget -q -O /dev/null http://127.0.0.1:${NATS_MONITOR_PORT}/healthz`,
        ],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(20),
      },
      stopTimeout: Duration.seconds(DEFAULT_NATS_LAME_DUCK_SECONDS + 15),
      logging: LogDrivers.awsLogs({ logGroup: logs, streamPrefix: "nats" }),
    });

    const securityGroup = new SecurityGroup(this, "NodesSecurityGroup", {
      vpc,
      description:
        "NATS nodes: clients and health checks from the load balancer, routes between nodes.",
      allowAllOutbound: false,
    });
    // The load balancer's nodes live in the VPC; client IPs are not preserved for IP targets.
    securityGroup.addIngressRule(
      Peer.ipv4(config.network.cidr),
      Port.tcp(NATS_CLIENT_PORT),
      "clients via the NLB",
    );
    securityGroup.addIngressRule(
      Peer.ipv4(config.network.cidr),
      Port.tcp(NATS_MONITOR_PORT),
      "NLB health checks",
    );
    securityGroup.addIngressRule(
      securityGroup,
      Port.tcp(NATS_CLUSTER_PORT),
      "routes between nodes",
    );
    securityGroup.addEgressRule(securityGroup, Port.tcp(NATS_CLUSTER_PORT), "routes between nodes");
    // Image pulls (registry), Secrets Manager and CloudWatch Logs endpoints, over HTTPS.
    securityGroup.addEgressRule(
      Peer.anyIpv4(),
      Port.tcp(443),
      "HTTPS to AWS APIs and the registry",
    );

    this.service = new FargateService(this, "Service", {
      cluster: this.cluster,
      serviceName: `${prefix}-nats`,
      taskDefinition: task,
      desiredCount: config.nats.nodeCount,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [securityGroup],
      assignPublicIp: false,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      cloudMapOptions: {
        name: NATS_DISCOVERY_NAME,
        cloudMapNamespace: namespace,
        dnsRecordType: DnsRecordType.A,
        dnsTtl: Duration.seconds(10),
      },
    });

    this.loadBalancer = new NetworkLoadBalancer(this, "LoadBalancer", {
      vpc,
      internetFacing: true,
      crossZoneEnabled: true,
      vpcSubnets: { subnetType: SubnetType.PUBLIC },
    });
    const listener = this.loadBalancer.addListener("Tls", {
      port: NATS_PUBLIC_PORT,
      protocol: LbProtocol.TCP,
    });
    this.targetGroup = listener.addTargets("Nodes", {
      port: NATS_CLIENT_PORT,
      protocol: LbProtocol.TCP,
      // NATS connections are long-lived: give a stopping node its lame-duck period to move them.
      deregistrationDelay: Duration.seconds(DEFAULT_NATS_LAME_DUCK_SECONDS + 5),
      targets: [
        this.service.loadBalancerTarget({ containerName: "nats", containerPort: NATS_CLIENT_PORT }),
      ],
      healthCheck: {
        protocol: LbProtocol.HTTP,
        port: String(NATS_MONITOR_PORT),
        path: "/healthz",
        interval: Duration.seconds(10),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
    });

    suppress(this.loadBalancer, [
      [
        "AwsSolutions-ELB2",
        "NLB access logs cover TLS listeners only; this listener is TCP pass-through (TLS ends at nats-server), so there would be nothing to log. nats-server logs every connection.",
      ],
    ]);

    new CfnOutput(this, "NatsUrl", { value: this.url });
    new CfnOutput(this, "LoadBalancerDnsName", {
      value: this.loadBalancer.loadBalancerDnsName,
      description: `Point ${config.nats.publicHostname} (CNAME or alias) here.`,
    });
  }
}
