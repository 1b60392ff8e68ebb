export { workerDbPoolMax, workerEnvSchema, type WorkerEnv } from './env.schema.ts';
export {
  createWorkerRuntime,
  type WorkerRuntime,
  type WorkerRuntimeOverrides,
} from './worker.runtime.ts';
export type { ProcessSync } from './sync.pipeline.ts';
export type { SyncSummary } from './sync.context.ts';
export {
  composeFetchChain,
  contentTypeLink,
  hostLeaseLink,
  passThrough,
  robotsLink,
  type FetchLink,
  type FetchLinks,
  type FetchRequest,
} from './fetch.chain.ts';
export {
  BREAKER_STATE_VALUES,
  SYNC_METRICS,
  type SyncMetrics,
  type SyncOutcome,
} from './sync.metrics.ts';
