import { Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { BACKEND_FUNCTIONS } from "../lib/config/backend-access.js";
import { ENCLAVE_METRICS_DIMENSION, ENCLAVE_METRICS_NAMESPACE } from "../lib/config/names.js";
import { ENCLAVE_METRICS } from "../lib/stacks/monitoring-stack.js";
import { buildStacks, configFor } from "./support.js";

const config = configFor("prod");
const { stacks } = buildStacks(config);
const template = Template.fromStack(stacks.monitoring);
const alarms = Object.values(template.findResources("AWS::CloudWatch::Alarm")).map(
  (a) => a.Properties,
);
const named = (name: string) => {
  const alarm = alarms.find((a) => a.AlarmName === `vettid-prod-${name}`);
  if (alarm === undefined) throw new Error(`no alarm ${name}`);
  return alarm;
};

describe("enclave alarms", () => {
  const enclaveAlarm = (metric: string) =>
    alarms.filter((a) => a.Namespace === ENCLAVE_METRICS_NAMESPACE && a.MetricName === metric);

  it("watch every enclave metric in VettID/Enclave by EnclaveId", () => {
    for (const metric of ENCLAVE_METRICS) {
      const found = enclaveAlarm(metric);
      expect(found, metric).toHaveLength(1);
      expect(found[0]?.Dimensions).toEqual([
        { Name: ENCLAVE_METRICS_DIMENSION, Value: config.nitro.enclaveId },
      ]);
    }
  });

  it("use the documented thresholds and statistics", () => {
    expect(named("enclave-cold-start-p99")).toMatchObject({
      ExtendedStatistic: "p99",
      Threshold: 2000,
      ComparisonOperator: "GreaterThanThreshold",
      EvaluationPeriods: 3,
    });
    expect(named("enclave-operation-p99")).toMatchObject({
      ExtendedStatistic: "p99",
      Threshold: 1000,
    });
    expect(named("enclave-memory")).toMatchObject({ Statistic: "Maximum", Threshold: 85 });
    expect(named("enclave-pin-rate-limited")).toMatchObject({ Statistic: "Sum", Threshold: 20 });
    // Silence is an incident: no metrics at all breaches.
    expect(named("enclave-silent")).toMatchObject({
      MetricName: "ActiveVaults",
      Statistic: "SampleCount",
      ComparisonOperator: "LessThanThreshold",
      TreatMissingData: "breaching",
    });
  });
});

describe("service alarms", () => {
  it("watch errors and throttles of every backend Lambda", () => {
    for (const fn of BACKEND_FUNCTIONS) {
      for (const metric of ["Errors", "Throttles"]) {
        const alarm = named(`lambda-${fn.id}-${metric.toLowerCase()}`);
        expect(alarm).toMatchObject({
          Namespace: "AWS/Lambda",
          MetricName: metric,
          Statistic: "Sum",
          Threshold: 0,
          ComparisonOperator: "GreaterThanThreshold",
        });
        expect(alarm.Dimensions[0].Name).toBe("FunctionName");
        // The function's own name, exported by the Vault/API stack.
        expect(JSON.stringify(alarm.Dimensions[0].Value)).toContain(
          `Fn${fn.id.replaceAll("-", "")}Function`,
        );
      }
    }
  });

  it("watch NATS health: target health, running nodes; and the workers and hosts", () => {
    expect(named("nats-unhealthy-nodes")).toMatchObject({
      Namespace: "AWS/NetworkELB",
      MetricName: "UnHealthyHostCount",
    });
    expect(named("nats-healthy-nodes")).toMatchObject({
      MetricName: "HealthyHostCount",
      Threshold: config.nats.nodeCount,
      TreatMissingData: "breaching",
    });
    expect(named("nats-running-nodes")).toMatchObject({
      Namespace: "ECS/ContainerInsights",
      MetricName: "RunningTaskCount",
      Threshold: config.nats.nodeCount,
    });
    expect(named("workers-running")).toMatchObject({ Threshold: config.workers.desiredCount });
    expect(named("enclave-hosts-in-service")).toMatchObject({
      MetricName: "GroupInServiceInstances",
      Threshold: config.nitro.minCapacity,
    });
    expect(named("api-5xx")).toMatchObject({ MetricName: "5xx" });
  });

  it("notify an encrypted topic that delivers to the on-call address", () => {
    for (const alarm of alarms) expect(alarm.AlarmActions).toHaveLength(1);
    template.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: config.alarmEmail,
    });
  });
});

describe("dashboard and key watch", () => {
  it("has a dashboard showing the enclave metrics", () => {
    const dashboard = Object.values(template.findResources("AWS::CloudWatch::Dashboard"))[0];
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    for (const metric of ENCLAVE_METRICS) expect(body).toContain(metric);
  });

  it("reports changes to the sealing key's policy, grants or state", () => {
    template.hasResourceProperties("AWS::Events::Rule", {
      EventPattern: Match.objectLike({
        source: ["aws.kms"],
        detail: Match.objectLike({
          eventName: Match.arrayWith(["PutKeyPolicy", "CreateGrant", "ScheduleKeyDeletion"]),
        }),
      }),
      Targets: [Match.objectLike({ Arn: Match.anyValue() })],
    });
  });
});
