export { createMetricsRegistry, METRIC_PREFIX } from './registry.factory.ts';
export { HTTP_DURATION_METRIC, httpMetrics, UNMATCHED_ROUTE } from './http-metrics.middleware.ts';
export {
  opsHandler,
  startOpsServer,
  startOpsServerOrReport,
  type OpsServer,
  type OpsServerOptions,
} from './ops.server.ts';
export {
  QUEUE_DEPTH_METRIC,
  QUEUE_STATES,
  registerQueueDepthGauge,
  type CountableQueue,
} from './queue-depth.gauge.ts';
export {
  BUILD_INFO_METRIC,
  buildInfo,
  registerBuildInfo,
  type BuildInfo,
} from './build-info.gauge.ts';
export { registerScrapedGauge } from './scraped.gauge.ts';
export { clusterMetricsText, serveClusterMetrics } from './cluster.metrics.ts';
export { probe, readiness, type CheckState, type DependencyCheck } from './readiness.check.ts';
export { Counter, Gauge, Histogram, type Registry } from 'prom-client';
