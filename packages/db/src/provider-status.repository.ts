import type { Db } from './prisma.client.ts';
import type { SyncRunStatus } from './sync-run.repository.ts';

export interface ProviderStatus {
  id: string;
  name: string;
  kind: string;
  url: string;
  timezone: string;
  enabled: boolean;
  every_seconds: number;
  /** Events stored for this provider. */
  events: number;
  /** When the latest succeeded run finished (ISO), null when none has. */
  last_success_at: string | null;
  last_sync: {
    status: SyncRunStatus;
    trigger: string;
    job_id: string | null;
    started_at: string;
    finished_at: string | null;
    fetched: number;
    parsed: number;
    upserted: number;
    unchanged: number;
    rejected: number;
    error: string | null;
    flag: string | null;
    /** A walk of pages stopped at its `maxPages` while the payload said there was more. */
    truncated: boolean;
    /** On a `waiting` run: when its job runs again (ISO). */
    resumes_at: string | null;
  } | null;
}

/** How fresh an enabled provider's events are: its interval and its last successful sync. */
export interface ProviderFreshness {
  name: string;
  every_seconds: number;
  /** Seconds since the epoch when its latest succeeded sync finished; null if none has. */
  last_success: number | null;
}

/**
 * Read side of the providers' health (API, dashboard, CLI): one query, whatever the number of
 * providers. Times are ISO strings in UTC with milliseconds.
 */
export class ProviderStatusRepository {
  constructor(private readonly db: Db) {}

  async list(): Promise<ProviderStatus[]> {
    // The latest run per provider comes from the (provider_id, started_at DESC) index.
    return this.db.$queryRaw<ProviderStatus[]>`
      SELECT p.id::text, p.name, p.kind, p.url, p.timezone, p.enabled, p.every_seconds,
        (SELECT count(*)::int FROM events e WHERE e.provider_id = p.id) AS events,
        (SELECT to_char(r.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
          FROM sync_runs r WHERE r.provider_id = p.id AND r.status = 'succeeded'
          ORDER BY r.started_at DESC LIMIT 1) AS last_success_at,
        (SELECT json_build_object(
            'status', r.status, 'trigger', r.trigger, 'job_id', r.job_id,
            'started_at', to_char(r.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'finished_at', to_char(r.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'fetched', r.fetched, 'parsed', r.parsed, 'upserted', r.upserted,
            'unchanged', r.unchanged, 'rejected', r.rejected, 'error', r.error, 'flag', r.flag,
            'truncated', r.truncated,
            'resumes_at', to_char(r.resumes_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
          FROM sync_runs r WHERE r.provider_id = p.id
          ORDER BY r.started_at DESC LIMIT 1) AS last_sync
      FROM providers p
      ORDER BY p.name`;
  }

  /**
   * One query for every enabled provider (the metrics scrape runs it): the latest succeeded run is
   * found walking the (provider_id, started_at DESC) index back from the newest run.
   */
  async freshness(): Promise<ProviderFreshness[]> {
    return this.db.$queryRaw<ProviderFreshness[]>`
      SELECT p.name, p.every_seconds,
        (SELECT extract(epoch FROM r.finished_at)::float8
          FROM sync_runs r
          WHERE r.provider_id = p.id AND r.status = 'succeeded' AND r.finished_at IS NOT NULL
          ORDER BY r.started_at DESC LIMIT 1) AS last_success
      FROM providers p
      WHERE p.enabled
      ORDER BY p.name`;
  }
}
