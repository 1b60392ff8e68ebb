export { createDb, Db, type DbOptions } from './prisma.client.ts';
export {
  migrate,
  MigrationError,
  MIGRATIONS_DIR,
  type MigrateOptions,
  type MigrateResult,
} from './migration.runner.ts';
export { isDatabaseUnavailable } from './database-availability.ts';
export { describeDatabaseError } from './database-error.message.ts';
export { ApiKeyRepository, type ApiKeyInfo } from './api-key.repository.ts';
export { type EventFilter } from './event-filter.sql.ts';
export {
  ProviderStatusRepository,
  type ProviderFreshness,
  type ProviderStatus,
} from './provider-status.repository.ts';
export { canonicalKey, matchKey } from './canonical-event.sql.ts';
export { normalizeForMatch, venueForMatch } from './venue-name.matcher.ts';
export {
  EventRepository,
  LAST_SEEN_GRANULARITY_MS,
  type EventPageQuery,
  type EventRow,
  type EventWithSources,
  type EventSource,
  type SearchWindow,
} from './event.repository.ts';
export {
  BULK_TIMEOUTS,
  EventTransaction,
  type BulkTimeouts,
  type ProviderRef,
  type UpsertResult,
} from './event-batch.writer.ts';
export { EventGroupWriter, type GroupedWrite } from './event-group.writer.ts';
export { bulkTransactionSlots, CONNECTIONS_BESIDE_BULK_WRITES } from './transaction.gate.ts';
export {
  ProviderExistsError,
  ProviderRepository,
  type ApplyResult,
  type NewProvider,
  type Provider,
  type ProviderChanges,
} from './provider.repository.ts';
export {
  REJECT_SAMPLE_SIZE,
  SYNC_RUN_STATUSES,
  SyncRunRepository,
  type RejectSample,
  type OpenedRun,
  type SyncCounts,
  type SyncRun,
  type SyncRunFlag,
  type SyncRunStatus,
} from './sync-run.repository.ts';
export {
  FetchStateRepository,
  type FetchStateUpdate,
  type ProviderFetchState,
} from './fetch-state.repository.ts';
export {
  ChangeRepository,
  FEED_START,
  type Change,
  type ChangeKind,
  type ChangePage,
  type ChangePosition,
} from './change.repository.ts';
export {
  WebhookRepository,
  type FailedWebhookMessage,
  type WebhookChange,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookEndpointHealth,
  type WebhookHead,
} from './webhook.repository.ts';
export { toEventDetail, toEventView } from './event.view.ts';
