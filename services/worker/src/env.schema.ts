import { z } from 'zod';
import { baseEnvSchema, cacheRedisUrl, port, webhookRetryEnv } from '@marquee/config';
import { CONNECTIONS_BESIDE_BULK_WRITES } from '@marquee/db';

export const workerEnvSchema = baseEnvSchema.extend({
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /**
   * PostgreSQL connections of the process (unset: workerDbPoolMax). A sync uses one at a time,
   * small payloads share one (group commit), and bulk-write transactions are held to two fewer
   * (CONNECTIONS_BESIDE_BULK_WRITES), so it need not grow with the concurrency. Replicas times
   * this counts against the server's max_connections.
   */
  WORKER_DB_POOL_MAX: z.coerce
    .number()
    .int()
    .min(CONNECTIONS_BESIDE_BULK_WRITES + 1)
    .max(100)
    .optional(),
  ...webhookRetryEnv,
  /** Webhook deliveries in flight at once, all endpoints together (one per endpoint at most). */
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  /** Whole-request budget of one webhook delivery. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /**
   * Payload bytes (MiB) the process holds at once across its concurrent syncs: a sync whose
   * payload does not fit waits for the others; one larger than this runs alone.
   */
  WORKER_MAX_INFLIGHT_MB: z.coerce.number().min(1).default(256),
  /** Whole-request budget for one provider fetch. */
  FETCH_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /** Larger payloads are refused (permanent failure), never buffered. */
  FETCH_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .default(100 * 1024 * 1024),
  /** Budget for the TCP/TLS connection of each hop, within FETCH_TIMEOUT_MS. */
  FETCH_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** Circuit breaker per provider (opossum): a call slower than this counts as a failure. */
  BREAKER_TIMEOUT_MS: z.coerce.number().int().min(100).default(60_000),
  /** Share of counted failures in the rolling window that opens the breaker. */
  BREAKER_ERROR_THRESHOLD_PERCENT: z.coerce.number().min(1).max(100).default(50),
  /** Calls in the rolling window before the breaker may open at all. */
  BREAKER_VOLUME_THRESHOLD: z.coerce.number().int().min(1).default(5),
  /** Rolling window over which the breaker's failure share is computed. */
  BREAKER_WINDOW_MS: z.coerce.number().int().min(1_000).default(600_000),
  /** Time an open breaker waits before letting one probe through (half-open). */
  BREAKER_RESET_TIMEOUT_MS: z.coerce.number().int().min(100).default(60_000),
  /**
   * A payload whose parsed count dropped by more than this share of the provider's last applied
   * count is flagged and not applied to "last seen" bookkeeping (0 disables the guard).
   */
  SHRINK_GUARD_RATIO: z.coerce.number().min(0).max(1).default(0.5),
  /** BullMQ job lock; a worker that stops renewing it (killed, blocked) loses the job after this. */
  WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(1_000).default(30_000),
  /** How often workers look for stalled jobs (whose lock expired) and hand them out again. */
  WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(1_000).default(30_000),
  FETCH_USER_AGENT: z.string().default('Marquee/0.1 (+https://github.com/marquee-events/marquee)'),
  /** Requests to one host in flight at once, across all workers (Redis lease per host). */
  POLITE_HOST_CONCURRENCY: z.coerce.number().int().min(1).default(2),
  /** Least time between the starts of two requests to one host, across all workers. */
  POLITE_MIN_DELAY_MS: z.coerce.number().int().min(0).default(1_000),
  /** A fetch waits at most this long for its host; a longer wait delays the job instead. */
  POLITE_MAX_WAIT_MS: z.coerce.number().int().min(0).default(10_000),
  /**
   * Longest wait a provider may impose with Retry-After (429, 503): a longer or unreadable one is
   * cut to this, so no provider parks a job for years.
   */
  RETRY_AFTER_MAX_SECONDS: z.coerce.number().int().min(1).default(3_600),
  /**
   * Delays a provider may impose on one job (429/503 with Retry-After, no attempt spent each);
   * the next rate limit fails the job for good (a dead letter).
   */
  RATE_LIMIT_MAX_DELAYS: z.coerce.number().int().min(0).default(10),
  /** Largest HTML page parsed (MiB); a larger one fails the sync for good (docs/reliability.md). */
  PARSE_MAX_HTML_MB: z.coerce.number().min(0.01).default(10),
  /**
   * Most elements in one HTML page or one XML document parsed whole (Fever's streaming parser
   * is exempt); a document over it fails the sync for good, before any tree is built.
   */
  PARSE_MAX_NODES: z.coerce.number().int().min(100).default(100_000),
  /** How long a host's robots.txt is reused (HTML kinds only). */
  ROBOTS_TTL_SECONDS: z.coerce.number().int().min(1).default(3_600),
  /** Time SIGTERM gives in-flight syncs to finish before they are handed back to the queue. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(25_000),
  CACHE_REDIS_URL: cacheRedisUrl,
  /** `/metrics`, `/healthz` and `/readyz` (the worker serves nothing else); 0 picks a free port. */
  METRICS_PORT: port.default(9101),
});

export type WorkerEnv = z.output<typeof workerEnvSchema>;

/** WORKER_DB_POOL_MAX's default: a connection per sync and two more, up to this many. */
const DEFAULT_DB_POOL_CAP = 10;

/**
 * The pool size: WORKER_DB_POOL_MAX, else WORKER_CONCURRENCY + 2 up to 10. A small process
 * (compose's 4) never waits for a connection; a large one (production's 64) keeps to 10.
 */
export function workerDbPoolMax(
  env: Pick<WorkerEnv, 'WORKER_CONCURRENCY' | 'WORKER_DB_POOL_MAX'>,
): number {
  return (
    env.WORKER_DB_POOL_MAX ??
    Math.min(env.WORKER_CONCURRENCY + CONNECTIONS_BESIDE_BULK_WRITES, DEFAULT_DB_POOL_CAP)
  );
}
