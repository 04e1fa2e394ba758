import { Stack, type StackProps } from "aws-cdk-lib";
import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  IpAddresses,
  SubnetType,
  Vpc,
} from "aws-cdk-lib/aws-ec2";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/environment-config.js";

/** Props of {@link NetworkStack}. */
export interface NetworkStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/**
 * Private subnets are /20 (4096 addresses per zone): room for Fargate tasks, enclave hosts and
 * interface endpoints without renumbering; public subnets (/24) hold only NAT gateways and load
 * balancer nodes.
 */
export const PRIVATE_SUBNET_CIDR_MASK = 20;
/** Public subnets: /24 per zone, for NAT gateways and load balancer nodes only. */
export const PUBLIC_SUBNET_CIDR_MASK = 24;

/**
 * The VPC every compute part runs in: public subnets for the NATS load balancer and NAT
 * gateways, private subnets (egress through NAT) for NATS nodes, workers and enclave hosts,
 * gateway endpoints so S3 and DynamoDB traffic stays on AWS's network, and flow logs.
 */
export class NetworkStack extends Stack {
  readonly vpc: Vpc;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { config } = props;
    // With an explicit account, CDK would look the zones up; give it the configured ones instead,
    // so synth never needs an AWS call.
    if (config.account !== undefined) {
      this.node.setContext(`availability-zones:account=${config.account}:region=${config.region}`, [
        ...config.availabilityZones,
      ]);
    }
    const flowLogs = new LogGroup(this, "FlowLogs", { retention: config.logRetentionDays });
    this.vpc = new Vpc(this, "Vpc", {
      ipAddresses: IpAddresses.cidr(config.network.cidr),
      availabilityZones: [...config.availabilityZones],
      natGateways: config.network.natGateways,
      subnetConfiguration: [
        { name: "public", subnetType: SubnetType.PUBLIC, cidrMask: PUBLIC_SUBNET_CIDR_MASK },
        {
          name: "private",
          subnetType: SubnetType.PRIVATE_WITH_EGRESS,
          cidrMask: PRIVATE_SUBNET_CIDR_MASK,
        },
      ],
      gatewayEndpoints: {
        S3: { service: GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: GatewayVpcEndpointAwsService.DYNAMODB },
      },
      flowLogs: {
        all: {
          destination: FlowLogDestination.toCloudWatchLogs(flowLogs),
          trafficType: FlowLogTrafficType.ALL,
        },
      },
    });
  }
}
