import { create } from "@bufbuild/protobuf";
import {
  type Metric,
  MetricDimensionSchema,
  MetricSchema,
  MetricsReportSchema,
  type MetricUnit,
} from "../../gen/vettid/vsock/v1/health_pb.js";
import { createFrame, type VsockConnection } from "../vsock/index.js";

/** Metric names, as the design documents and the CDK monitoring stack name them. */
export const METRIC = {
  coldStartLatency: "ColdStartLatency",
  operationLatency: "OperationLatency",
  activeVaults: "ActiveVaults",
  memoryUsagePercent: "MemoryUsagePercent",
  pinRateLimited: "PINRateLimited",
} as const;

/** How often buffered metrics go to the parent: 1 s keeps frames few and dashboards current. */
export const DEFAULT_METRICS_FLUSH_MS = 1000;

/**
 * Metrics of the enclave, buffered and sent to the parent as `MetricsReport` frames (the enclave
 * has no other way out); the parent writes them as CloudWatch Embedded Metric Format lines.
 * Dimensions never carry member ids: the parent sees them.
 */
export interface EnclaveMetrics {
  record(name: string, value: number, unit: MetricUnit): void;
  flush(link: VsockConnection | undefined): void;
}

export function createEnclaveMetrics(enclaveId: string): EnclaveMetrics {
  let pending: Metric[] = [];
  return {
    record(name, value, unit) {
      pending.push(
        create(MetricSchema, {
          name,
          unit,
          value,
          dimensions: [create(MetricDimensionSchema, { name: "EnclaveId", value: enclaveId })],
          observedAtMs: BigInt(Date.now()),
        }),
      );
      // Bounded: a parent that is away for long loses the oldest samples, not memory.
      if (pending.length > 10_000) pending = pending.slice(-5_000);
    },
    flush(link) {
      if (link === undefined || pending.length === 0) return;
      const metrics = pending;
      pending = [];
      link
        .send(
          createFrame({ case: "metricsReport", value: create(MetricsReportSchema, { metrics }) }),
        )
        .catch(() => {});
    },
  };
}
