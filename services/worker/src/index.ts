export { workerEnvSchema, type WorkerEnv } from './env.schema.ts';
export { closeWorker, createIngestWorker, type IngestWorkerOptions } from './ingest.worker.ts';
export {
  createSyncProcessor,
  type SyncProcessorOptions,
  type SyncProgress,
  type SyncSummary,
} from './sync.processor.ts';
export {
  BREAKER_STATE_VALUES,
  registerSyncMetrics,
  SYNC_METRICS,
  type SyncMetrics,
  type SyncOutcome,
} from './sync.metrics.ts';
