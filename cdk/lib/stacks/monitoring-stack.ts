import { CfnOutput, Duration, Stack, type StackProps } from "aws-cdk-lib";
import type { HttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import type { AutoScalingGroup } from "aws-cdk-lib/aws-autoscaling";
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  TextWidget,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { FargateService } from "aws-cdk-lib/aws-ecs";
import type { NetworkTargetGroup } from "aws-cdk-lib/aws-elasticloadbalancingv2";
import { Rule } from "aws-cdk-lib/aws-events";
import { SnsTopic } from "aws-cdk-lib/aws-events-targets";
import { ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { type IKey, Key } from "aws-cdk-lib/aws-kms";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/environment-config.js";
import {
  ENCLAVE_METRICS_DIMENSION,
  ENCLAVE_METRICS_NAMESPACE,
  resourcePrefix,
} from "../config/names.js";

/** Props of {@link MonitoringStack}. */
export interface MonitoringStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /** Backend Lambdas by catalogue id. */
  readonly functions: Readonly<Record<string, IFunction>>;
  readonly api: HttpApi;
  readonly natsTargetGroup: NetworkTargetGroup;
  readonly natsService: FargateService;
  readonly workersService: FargateService;
  readonly enclaveHosts: AutoScalingGroup;
  /** Changes to this key's policy, grants or state are reported on the alarm topic. */
  readonly sealingKey: IKey;
}

/** The enclave metrics the supervisor emits (EMF, namespace `VettID/Enclave`, dimension `EnclaveId`). */
export const ENCLAVE_METRICS = [
  "ColdStartLatency",
  "OperationLatency",
  "ActiveVaults",
  "MemoryUsagePercent",
  "PINRateLimited",
] as const;

/** Loading a vault from S3: the design accepts 0.5-2 s, so a p99 above 2 s is an incident. */
export const COLD_START_P99_MS = 2000;
/** A vault operation (unseal excluded): p99 above 1 s means the enclave is saturated. */
export const OPERATION_P99_MS = 1000;
/** The supervisor evicts idle vaults under pressure; above 85% for 10 min it is not keeping up. */
export const MEMORY_PERCENT_MAX = 85;
/**
 * PIN lockouts across all members in 5 minutes: above 20 is far beyond forgotten PINs and looks
 * like guessing across many vaults.
 */
export const PIN_RATE_LIMITED_PER_5_MIN = 20;
/** API 5xx answers in 5 minutes before someone is paged: a few are retries and deploys. */
export const API_5XX_PER_5_MIN = 10;

const FIVE_MINUTES = Duration.minutes(5);

/**
 * The operators' view: a dashboard and alarms for the enclave (its five EMF metrics, and silence),
 * the backend Lambdas (errors, throttles), the HTTP API (5xx), NATS (load balancer target health,
 * running nodes), the workers, the enclave hosts (in service), all notifying one encrypted SNS
 * topic; and a rule that reports any change to the vault sealing key's policy or state.
 */
export class MonitoringStack extends Stack {
  readonly topic: Topic;
  readonly dashboard: Dashboard;
  /** Every alarm, by name. */
  readonly alarms: Readonly<Record<string, Alarm>>;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const { config } = props;
    const prefix = resourcePrefix(config.name);

    // CloudWatch and EventBridge can publish to an encrypted topic only with a customer key that
    // lets them use it (the AWS-managed SNS key does not).
    const topicKey = new Key(this, "AlarmTopicKey", {
      alias: `alias/${prefix}-alarms`,
      description: "Encrypts the VettID alarm topic.",
      enableKeyRotation: true,
    });
    for (const service of ["cloudwatch.amazonaws.com", "events.amazonaws.com"]) {
      topicKey.grant(new ServicePrincipal(service), "kms:Decrypt", "kms:GenerateDataKey*");
    }
    this.topic = new Topic(this, "AlarmTopic", {
      topicName: `${prefix}-alarms`,
      masterKey: topicKey,
      enforceSSL: true,
    });
    if (config.alarmEmail !== undefined) {
      this.topic.addSubscription(new EmailSubscription(config.alarmEmail));
    }
    const action = new SnsAction(this.topic);
    const alarms: Record<string, Alarm> = {};
    const alarm = (
      name: string,
      metric: IMetric,
      threshold: number,
      comparison: ComparisonOperator,
      description: string,
      options: { evaluationPeriods?: number; missing?: TreatMissingData } = {},
    ) => {
      const created = new Alarm(this, `Alarm-${name}`, {
        alarmName: `${prefix}-${name}`,
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator: comparison,
        evaluationPeriods: options.evaluationPeriods ?? 1,
        treatMissingData: options.missing ?? TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      alarms[name] = created;
      return created;
    };

    const enclave = (name: (typeof ENCLAVE_METRICS)[number], statistic: string) =>
      new Metric({
        namespace: ENCLAVE_METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { [ENCLAVE_METRICS_DIMENSION]: config.nitro.enclaveId },
        statistic,
        period: FIVE_MINUTES,
      });
    const GT = ComparisonOperator.GREATER_THAN_THRESHOLD;
    const LT = ComparisonOperator.LESS_THAN_THRESHOLD;
    alarm(
      "enclave-cold-start-p99",
      enclave("ColdStartLatency", "p99"),
      COLD_START_P99_MS,
      GT,
      "Vault cold starts (S3 load and unseal) are slow: p99 over 2 s for 15 minutes.",
      { evaluationPeriods: 3 },
    );
    alarm(
      "enclave-operation-p99",
      enclave("OperationLatency", "p99"),
      OPERATION_P99_MS,
      GT,
      "Vault operations are slow: p99 over 1 s for 15 minutes.",
      { evaluationPeriods: 3 },
    );
    alarm(
      "enclave-memory",
      enclave("MemoryUsagePercent", "Maximum"),
      MEMORY_PERCENT_MAX,
      GT,
      "Enclave memory above 85% for 10 minutes: eviction is not keeping up; add hosts.",
      { evaluationPeriods: 2 },
    );
    alarm(
      "enclave-pin-rate-limited",
      enclave("PINRateLimited", "Sum"),
      PIN_RATE_LIMITED_PER_5_MIN,
      GT,
      "Many PIN lockouts in 5 minutes: possible PIN guessing across vaults (security).",
    );
    alarm(
      "enclave-silent",
      enclave("ActiveVaults", "SampleCount"),
      1,
      LT,
      "The enclave reported no metrics for 10 minutes: enclave, parent or CloudWatch agent down.",
      { evaluationPeriods: 2, missing: TreatMissingData.BREACHING },
    );

    for (const [id, fn] of Object.entries(props.functions)) {
      alarm(
        `lambda-${id}-errors`,
        fn.metricErrors({ period: FIVE_MINUTES, statistic: "Sum" }),
        0,
        GT,
        `Lambda ${id} failed (unhandled errors or timeouts).`,
      );
      alarm(
        `lambda-${id}-throttles`,
        fn.metricThrottles({ period: FIVE_MINUTES, statistic: "Sum" }),
        0,
        GT,
        `Lambda ${id} was throttled (account or reserved concurrency reached).`,
      );
    }
    alarm(
      "api-5xx",
      props.api.metricServerError({ period: FIVE_MINUTES, statistic: "Sum" }),
      API_5XX_PER_5_MIN,
      GT,
      "The HTTP API answered 5xx more than 10 times in 5 minutes.",
    );

    const tg = props.natsTargetGroup.metrics;
    alarm(
      "nats-unhealthy-nodes",
      tg.unHealthyHostCount({ period: Duration.minutes(1), statistic: "Maximum" }),
      0,
      GT,
      "A NATS node fails its /healthz check for 3 minutes.",
      { evaluationPeriods: 3 },
    );
    alarm(
      "nats-healthy-nodes",
      tg.healthyHostCount({ period: Duration.minutes(1), statistic: "Minimum" }),
      config.nats.nodeCount,
      LT,
      "Fewer healthy NATS nodes than configured for 3 minutes.",
      { evaluationPeriods: 3, missing: TreatMissingData.BREACHING },
    );
    const running = (service: FargateService) =>
      new Metric({
        namespace: "ECS/ContainerInsights",
        metricName: "RunningTaskCount",
        dimensionsMap: {
          ClusterName: service.cluster.clusterName,
          ServiceName: service.serviceName,
        },
        statistic: "Minimum",
        period: FIVE_MINUTES,
      });
    alarm(
      "nats-running-nodes",
      running(props.natsService),
      config.nats.nodeCount,
      LT,
      "Fewer NATS tasks running than configured.",
      { evaluationPeriods: 2, missing: TreatMissingData.BREACHING },
    );
    alarm(
      "workers-running",
      running(props.workersService),
      config.workers.desiredCount,
      LT,
      "Fewer backend worker tasks running than configured: votes and subscription statements wait.",
      { evaluationPeriods: 2, missing: TreatMissingData.BREACHING },
    );
    const inService = new Metric({
      namespace: "AWS/AutoScaling",
      metricName: "GroupInServiceInstances",
      dimensionsMap: { AutoScalingGroupName: props.enclaveHosts.autoScalingGroupName },
      statistic: "Minimum",
      period: FIVE_MINUTES,
    });
    alarm(
      "enclave-hosts-in-service",
      inService,
      config.nitro.minCapacity,
      LT,
      "Fewer enclave hosts in service than the minimum.",
      { evaluationPeriods: 2, missing: TreatMissingData.BREACHING },
    );
    this.alarms = alarms;

    // Anyone changing who may unseal vaults (policy, grants, key state) is reported at once.
    // Needs CloudTrail management events in the account (an organisation trail is enough).
    new Rule(this, "SealingKeyChanges", {
      ruleName: `${prefix}-sealing-key-changes`,
      description: "Reports changes to the vault sealing key's policy, grants or state.",
      eventPattern: {
        source: ["aws.kms"],
        detailType: ["AWS API Call via CloudTrail"],
        detail: {
          eventName: [
            "PutKeyPolicy",
            "CreateGrant",
            "DisableKey",
            "ScheduleKeyDeletion",
            "CancelKeyDeletion",
            "EnableKey",
          ],
          resources: { ARN: [props.sealingKey.keyArn] },
        },
      },
      targets: [new SnsTopic(this.topic)],
    });

    this.dashboard = new Dashboard(this, "Dashboard", {
      dashboardName: `${prefix}-operations`,
      defaultInterval: Duration.hours(6),
    });
    const graph = (title: string, metrics: IMetric[], width = 8) =>
      new GraphWidget({ title, left: metrics, width, height: 6 });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# VettID ${config.name}\nEnclave \`${config.nitro.enclaveId}\`, NATS \`${config.nats.publicHostname}\`. Runbooks: docs/operations/.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      graph("Enclave: cold start latency (ms)", [
        enclave("ColdStartLatency", "p50"),
        enclave("ColdStartLatency", "p99"),
      ]),
      graph("Enclave: operation latency (ms)", [
        enclave("OperationLatency", "p50"),
        enclave("OperationLatency", "p99"),
      ]),
      graph("Enclave: active vaults", [enclave("ActiveVaults", "Average")]),
    );
    this.dashboard.addWidgets(
      graph("Enclave: memory (%)", [enclave("MemoryUsagePercent", "Maximum")]),
      graph("Enclave: PIN lockouts", [enclave("PINRateLimited", "Sum")]),
      graph("Enclave hosts in service", [inService]),
    );
    const fns = Object.values(props.functions);
    this.dashboard.addWidgets(
      graph(
        "Lambda errors",
        fns.map((fn) => fn.metricErrors({ period: FIVE_MINUTES })),
      ),
      graph(
        "Lambda throttles",
        fns.map((fn) => fn.metricThrottles({ period: FIVE_MINUTES })),
      ),
      graph("HTTP API", [
        props.api.metricCount({ period: FIVE_MINUTES }),
        props.api.metricClientError({ period: FIVE_MINUTES }),
        props.api.metricServerError({ period: FIVE_MINUTES }),
      ]),
    );
    this.dashboard.addWidgets(
      graph("NATS nodes (load balancer health)", [
        tg.healthyHostCount({ period: Duration.minutes(1) }),
        tg.unHealthyHostCount({ period: Duration.minutes(1) }),
      ]),
      graph("NATS and workers tasks running", [
        running(props.natsService),
        running(props.workersService),
      ]),
      graph("NATS active connections (load balancer)", [
        new Metric({
          namespace: "AWS/NetworkELB",
          metricName: "ActiveFlowCount",
          dimensionsMap: {
            LoadBalancer: props.natsTargetGroup.firstLoadBalancerFullName,
          },
          statistic: "Average",
          period: FIVE_MINUTES,
        }),
      ]),
    );

    new CfnOutput(this, "AlarmTopicArn", { value: this.topic.topicArn });
  }
}
