export {
  InvalidJobError,
  isJobName,
  jobCatalog,
  parsePayload,
  QUEUE_NAMES,
  type JobName,
  type JobPayload,
  type QueueName,
} from './job.catalog.ts';
export {
  IngestQueue,
  SYNC_JOB_OPTIONS,
  type QueueDepth,
  type QueueOptions,
  type ScheduleInfo,
  type SyncJob,
} from './ingest.queue.ts';
