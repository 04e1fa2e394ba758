import { Duration, Lazy, Stack, type StackProps } from "aws-cdk-lib";
import {
  AutoScalingGroup,
  type CfnAutoScalingGroup,
  GroupMetrics,
  HealthChecks,
  Signals,
  UpdatePolicy,
} from "aws-cdk-lib/aws-autoscaling";
import {
  BlockDeviceVolume,
  EbsDeviceVolumeType,
  InstanceType,
  type IVpc,
  LaunchTemplate,
  MachineImage,
  Peer,
  Port,
  SecurityGroup,
  SubnetType,
  UserData,
} from "aws-cdk-lib/aws-ec2";
import { ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import type { ISecret } from "aws-cdk-lib/aws-secretsmanager";
import type { Construct } from "constructs";
import { bucketEnvName, ENV_ENVIRONMENT } from "../config/backend-access.js";
import type { EnvironmentConfig } from "../config/environment-config.js";
import {
  APP_BUNDLE_FILE,
  ENCLAVE_IMAGE_FILE,
  enclaveHostRoleName,
  releasePrefix,
  resourcePrefix,
} from "../config/names.js";
import { enclaveHostUserData } from "../constructs/enclave-host-user-data.js";
import { suppress } from "../constructs/nag.js";
import { bucketNameIn, grantBucket } from "../constructs/resource-grants.js";
import {
  IMAGE_SHA384_CONDITION,
  pcrCondition,
  SEALING_KEY_ENCLAVE_ACTIONS,
} from "../constructs/sealing-key-policy.js";

/** Props of {@link NitroStack}. */
export interface NitroStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly vpc: IVpc;
  /** The vault sealing key (its policy names this stack's role; the role's policy names the key). */
  readonly sealingKey: IKey;
  /** The parent's NATS credentials. */
  readonly parentCredentials: ISecret;
  /** `tls://…:443`, from the NATS stack. */
  readonly natsUrl: string;
}

/** Root volume: 30 GiB gp3, encrypted. The OS, two releases (EIF ~ hundreds of MiB) and logs. */
export const ROOT_VOLUME_GIB = 30;

/** `VETTID_KMS_SEALING_KEY_ARN`: the key the parent relays the enclave's KMS calls for. */
export const ENV_SEALING_KEY_ARN = "VETTID_KMS_SEALING_KEY_ARN";
/** `VETTID_ENCLAVE_ID`: the pool's enclave id. */
export const ENV_ENCLAVE_ID = "VETTID_ENCLAVE_ID";

/**
 * A new host must boot, check the release, start the enclave and have the parent report ready
 * within 15 minutes (the dnf install and the enclave boot take a few), or the deployment rolls
 * back.
 */
export const HOST_SIGNAL_TIMEOUT = Duration.minutes(15);

/**
 * The Nitro Enclave hosts: an Auto Scaling group of Nitro-Enclave-enabled instances
 * (`c6a.2xlarge` by default), each running the enclave (allocator: 12 GiB / 6 vCPUs by default)
 * and the parent from the release in the artifacts bucket. The parent's role can do only what it
 * routes: vault blobs in S3, the enclave's attested KMS calls, its own NATS credentials, the
 * release artifacts, its logs. IMDSv2 only, no inbound ports, no public address.
 */
export class NitroStack extends Stack {
  readonly role: Role;
  readonly autoScalingGroup: AutoScalingGroup;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: NitroStackProps) {
    super(scope, id, props);
    const { config, vpc } = props;
    const prefix = resourcePrefix(config.name);

    this.logGroup = new LogGroup(this, "Logs", {
      logGroupName: `/vettid/${config.name}/enclave-host`,
      retention: config.logRetentionDays,
    });

    this.role = new Role(this, "HostRole", {
      roleName: enclaveHostRoleName(config.name),
      assumedBy: new ServicePrincipal("ec2.amazonaws.com"),
      description:
        "VettID enclave host (parent): vault blobs, attested KMS for the enclave, its NATS credentials, release artifacts, logs.",
    });
    // The enclave's KMS calls, relayed by the parent: only with an accepted attestation (the key
    // policy says the same; both must allow).
    this.role.addToPolicy(
      new PolicyStatement({
        actions: [...SEALING_KEY_ENCLAVE_ACTIONS],
        resources: [props.sealingKey.keyArn],
        conditions: {
          StringEqualsIgnoreCase: {
            [IMAGE_SHA384_CONDITION]: config.attestation.measurements.map((m) => m.imageSha384),
            [pcrCondition(0)]: config.attestation.measurements.map((m) => m.imageSha384),
          },
        },
      }),
    );
    grantBucket(this.role, config.name, "vaultBlobs", "readWrite", "");
    grantBucket(this.role, config.name, "artifacts", "read", "releases/");
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ["secretsmanager:GetSecretValue"],
        resources: [props.parentCredentials.secretArn],
      }),
    );
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    if (config.nitro.sessionManager) {
      this.role.addManagedPolicy(
        ManagedPolicy.fromAwsManagedPolicyName("AmazonSSMManagedInstanceCore"),
      );
      suppress(this.role, [
        [
          "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]",
          "Session Manager for operators in non-production environments only (the config refuses it in production); the parent holds only ciphertext.",
        ],
      ]);
    }

    const securityGroup = new SecurityGroup(this, "HostSecurityGroup", {
      vpc,
      description: "Enclave hosts: no inbound; HTTPS out to NATS (443) and AWS APIs.",
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(Peer.anyIpv4(), Port.tcp(443), "NATS (TLS 443) and AWS APIs");

    // Rendered once the Auto Scaling group exists (the script signals it by logical id).
    let script: string | undefined;
    const userData = UserData.custom(
      Lazy.string({
        produce: () => {
          if (script === undefined) throw new Error("enclave host user data was not built");
          return script;
        },
      }),
    );
    const launchTemplate = new LaunchTemplate(this, "LaunchTemplate", {
      launchTemplateName: `${prefix}-enclave-host`,
      instanceType: new InstanceType(config.nitro.instanceType),
      machineImage: MachineImage.latestAmazonLinux2023(),
      nitroEnclaveEnabled: true,
      requireImdsv2: true,
      detailedMonitoring: true,
      role: this.role,
      securityGroup,
      userData,
      blockDevices: [
        {
          deviceName: "/dev/xvda",
          volume: BlockDeviceVolume.ebs(ROOT_VOLUME_GIB, {
            encrypted: true,
            volumeType: EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
    });

    this.autoScalingGroup = new AutoScalingGroup(this, "Hosts", {
      vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate,
      minCapacity: config.nitro.minCapacity,
      maxCapacity: config.nitro.maxCapacity,
      healthChecks: HealthChecks.ec2({ gracePeriod: HOST_SIGNAL_TIMEOUT }),
      // GroupInServiceInstances and friends, for the Monitoring stack's alarm.
      groupMetrics: [GroupMetrics.all()],
      signals: Signals.waitForAll({ timeout: HOST_SIGNAL_TIMEOUT }),
      updatePolicy: UpdatePolicy.rollingUpdate({
        maxBatchSize: 1,
        minInstancesInService: Math.max(0, config.nitro.minCapacity - 1),
        pauseTime: HOST_SIGNAL_TIMEOUT,
      }),
    });
    const cfnGroup = this.autoScalingGroup.node.defaultChild as CfnAutoScalingGroup;
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ["cloudformation:SignalResource"],
        resources: [this.stackId],
      }),
    );

    const release = releasePrefix(config.release.version);
    script = enclaveHostUserData({
      environment: config.name,
      region: config.region,
      artifactsBucket: bucketNameIn(this, config.name, "artifacts"),
      releasePrefix: release,
      appBundleFile: APP_BUNDLE_FILE,
      appBundleSha256: config.release.appBundleSha256,
      enclaveImageFile: ENCLAVE_IMAGE_FILE,
      enclaveImageSha384: config.release.enclaveImageSha384,
      enclaveMemoryMiB: config.nitro.enclaveMemoryMiB,
      enclaveCpuCount: config.nitro.enclaveCpuCount,
      enclaveId: config.nitro.enclaveId,
      natsUrl: props.natsUrl,
      parentCredsSecretArn: props.parentCredentials.secretArn,
      logGroupName: this.logGroup.logGroupName,
      parentEnvironment: {
        [ENV_ENVIRONMENT]: config.name,
        [ENV_ENCLAVE_ID]: config.nitro.enclaveId,
        [bucketEnvName("vaultBlobs")]: bucketNameIn(this, config.name, "vaultBlobs"),
        [ENV_SEALING_KEY_ARN]: props.sealingKey.keyArn,
      },
      signal: { stackName: this.stackName, resource: this.getLogicalId(cfnGroup) },
    });

    suppress(this.autoScalingGroup, [
      [
        "AwsSolutions-AS3",
        "Host health is watched by the Monitoring stack's alarms (in-service hosts below minimum, enclave metrics missing), which notify the alarm topic; scaling events need no separate notification.",
      ],
    ]);
  }
}
