import { Configuration, MetricsLogger, Unit } from "aws-embedded-metrics";
import { LocalEnvironment } from "aws-embedded-metrics/lib/environment/LocalEnvironment.js";

import { type MetricsReport, MetricUnit } from "../../gen/vettid/vsock/v1/health_pb.js";

/** CloudWatch namespace of the enclave metrics (the CDK monitoring stack reads it). */
export const ENCLAVE_METRICS_NAMESPACE = "VettID/Enclave";

const UNIT: Record<MetricUnit, Unit> = {
  [MetricUnit.UNSPECIFIED]: Unit.None,
  [MetricUnit.COUNT]: Unit.Count,
  [MetricUnit.MILLISECONDS]: Unit.Milliseconds,
  [MetricUnit.BYTES]: Unit.Bytes,
  [MetricUnit.PERCENT]: Unit.Percent,
  [MetricUnit.COUNT_PER_SECOND]: Unit.CountPerSecond,
};

/**
 * Writes the enclave's metric reports as CloudWatch Embedded Metric Format lines on stdout (the
 * `aws-embedded-metrics` library; "Local" environment), which the CloudWatch agent on the enclave
 * host ships. One logger per report: its metrics share a timestamp and dimensions.
 */
export function createEmfMetricsWriter(): (report: MetricsReport) => Promise<void> {
  Configuration.namespace = ENCLAVE_METRICS_NAMESPACE;
  // The "Local" environment: plain EMF JSON lines on stdout, no agent socket, no EC2 probing.
  const environment = new LocalEnvironment();
  return async (report) => {
    const byDimensions = new Map<string, MetricsReport["metrics"]>();
    for (const metric of report.metrics) {
      const key = JSON.stringify(metric.dimensions.map((d) => [d.name, d.value]));
      byDimensions.set(key, [...(byDimensions.get(key) ?? []), metric]);
    }
    for (const metrics of byDimensions.values()) {
      const logger = new MetricsLogger(async () => environment);
      logger.setNamespace(ENCLAVE_METRICS_NAMESPACE);
      const first = metrics[0];
      if (first === undefined) continue;
      logger.setDimensions(Object.fromEntries(first.dimensions.map((d) => [d.name, d.value])));
      for (const metric of metrics)
        logger.putMetric(metric.name, metric.value, UNIT[metric.unit] ?? Unit.None);
      await logger.flush();
    }
  };
}
