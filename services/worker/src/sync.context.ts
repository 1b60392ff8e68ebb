import type {
  EventRepository,
  FetchStateRepository,
  Provider,
  ProviderFetchState,
  ProviderRepository,
  SyncCounts,
  SyncRunRepository,
} from '@marquee/db';
import type { PayloadBudget, PayloadHold } from '@marquee/fetch';
import type { Logger } from '@marquee/logger';
import type { ParseLimits } from '@marquee/providers';
import type { SyncJob, SyncLock } from '@marquee/queue';
import type { Fetcher } from './fetch.chain.ts';
import type { ProviderRemovalWatcher } from './provider-removal.watcher.ts';
import type { DecisionPolicy } from './sync.decision.ts';

/** Bounds on the waits a provider imposes (429/503 with Retry-After). */
export interface DelayPolicy {
  /** RETRY_AFTER_MAX_SECONDS in ms: a longer Retry-After is cut to this. */
  retryAfterMaxMs: number;
  /** RATE_LIMIT_MAX_DELAYS: provider-imposed delays of one job before it fails for good. */
  maxDelays: number;
}
import type { ProgressReporter } from './sync.progress.ts';
import type { WalkCheckpoint } from './walk.checkpoint.ts';

/** What the steps of a sync are built from (createWorkerRuntime assembles it). */
export interface SyncDeps {
  providers: ProviderRepository;
  /** Aborts the requests under way of removed providers, one query per tick for all of them. */
  removals: ProviderRemovalWatcher;
  events: EventRepository;
  syncRuns: SyncRunRepository;
  fetchStates: FetchStateRepository;
  /** Told when the catalog changed (the API's cache keys carry its version). */
  cache: { bumpVersion(): Promise<unknown> };
  /** The guarded fetch chain (fetch.chain.ts), shared by every sync of the process. */
  fetch: Fetcher;
  /** One sync at a time per provider (claim-provider.step.ts). */
  syncLock: SyncLock;
  policy: DecisionPolicy;
  delays: DelayPolicy;
  /** Bounds on each document's parse (PARSE_MAX_HTML_MB, PARSE_MAX_NODES). */
  parseLimits: ParseLimits;
  /** Payload bytes held at once by all syncs of the process (WORKER_MAX_INFLIGHT_MB). */
  budget: PayloadBudget;
  logger: Logger;
  now: () => Date;
}

/** One sync in flight: what `beginRun` found, passed from step to step. */
export interface SyncContext {
  job: SyncJob;
  /** BullMQ's lock token (absent when a test runs the pipeline on a job it did not lock). */
  token: string | undefined;
  provider: Provider;
  runId: string;
  /** The provider's last applied payload (its fetch state); null before the first. */
  applied: ProviderFetchState | null;
  /**
   * Where this attempt's walk of pages resumes, and the totals of the pages before it, when an
   * earlier attempt of the same job failed part-way (keep-walked.step.ts).
   */
  resumed: WalkCheckpoint | undefined;
  /** One clock reading per sync: rows written, rows marked seen and the seen mark carry it. */
  seenAt: Date;
  log: Logger;
  /** What the run records, filled in as the steps learn it (also on failure). */
  counts: SyncCounts;
  progress: ProgressReporter;
  /** The sync's share of the payload budget; released when the sync ends, however it ends. */
  hold: PayloadHold;
}

/** The job's return value; also kept on the sync run. */
export interface SyncSummary extends SyncCounts {
  provider: string;
  syncRunId: string;
  /** True when the catalog changed, i.e. the API cache was invalidated. */
  changed: boolean;
  /** Ended before fetching: the provider is disabled, or another sync of it is going on. */
  skipped?: 'disabled' | 'already-running';
  /** A walk of pages stopped at its `maxPages` while the payload said there was more. */
  truncated?: true;
  /** Why the run is flagged `empty` (nothing written, stored events kept). */
  empty?: string;
}

export function zeroCounts(): SyncCounts {
  return { fetched: 0, parsed: 0, upserted: 0, unchanged: 0, rejected: 0 };
}

export function summaryOf(sync: SyncContext, changed: boolean): SyncSummary {
  return { ...sync.counts, provider: sync.provider.name, syncRunId: sync.runId, changed };
}
