export {
  InvalidJobError,
  isJobName,
  jobCatalog,
  parsePayload,
  QUEUE_NAMES,
  readProgress,
  type JobName,
  type JobPayload,
  type JobProgress,
  type QueueName,
  type SyncProgress,
  type SyncStage,
} from './job.catalog.ts';
export {
  IngestQueue,
  SYNC_JOB_OPTIONS,
  type QueueDepth,
  type QueueOptions,
  type ScheduleInfo,
  type SyncJob,
} from './ingest.queue.ts';
export { SyncLock } from './sync.lock.ts';
export { WebhookQueue, type DeliveryJob, type DeliveryRetries } from './webhook.queue.ts';
