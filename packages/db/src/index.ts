export { createDb, type Db, type DbOptions } from './prisma.client.ts';
export {
  migrate,
  MigrationError,
  MIGRATIONS_DIR,
  type MigrateOptions,
  type MigrateResult,
} from './migration.runner.ts';
export {
  EventRepository,
  contentHash,
  eventId,
  type EventPageQuery,
  type EventRecord,
  type EventRow,
  type ProviderRef,
  type SearchWindow,
  type UpsertResult,
} from './event.repository.ts';
export {
  ProviderExistsError,
  ProviderRepository,
  type NewProvider,
  type Provider,
} from './provider.repository.ts';
export {
  REJECT_SAMPLE_SIZE,
  SyncRunRepository,
  type RejectSample,
  type SyncCounts,
  type SyncRun,
} from './sync-run.repository.ts';
