export { workerEnvSchema, type WorkerEnv } from './env.schema.ts';
export { closeWorker, createIngestWorker, type IngestWorkerOptions } from './ingest.worker.ts';
export {
  createWorkerRuntime,
  type WorkerRuntime,
  type WorkerRuntimeOverrides,
} from './worker.runtime.ts';
export { createSyncPipeline, type ProcessSync } from './sync.pipeline.ts';
export type { SyncContext, SyncDeps, SyncSummary } from './sync.context.ts';
export {
  breakerLink,
  composeFetchChain,
  contentTypeLink,
  FETCH_LINK_ORDER,
  hostLeaseLink,
  httpFetch,
  passThrough,
  robotsLink,
  type Fetcher,
  type FetchLink,
  type FetchLinks,
  type FetchRequest,
} from './fetch.chain.ts';
export {
  BreakerSkipError,
  PermanentSyncError,
  TransientSyncError,
  type FailureClassification,
} from './sync-failure.error.ts';
export {
  BREAKER_STATE_VALUES,
  registerSyncMetrics,
  SYNC_METRICS,
  type SyncMetrics,
  type SyncOutcome,
} from './sync.metrics.ts';
