import { z } from 'zod';

/** Every queue Marquee uses. Keys in Redis: "<QUEUE_PREFIX>:<queue>:…". */
export const QUEUE_NAMES = { ingest: 'ingest', webhooks: 'webhooks' } as const;
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

/**
 * The one job catalog shared by scheduler, worker and CLI: job name → queue and payload schema.
 * Payloads are validated when enqueued and again when processed (a job may have been written by
 * an older or newer release, or by hand).
 */
export const jobCatalog = {
  'provider.sync': {
    queue: QUEUE_NAMES.ingest,
    payload: z.object({
      /** Who is synced: the worker goes by this id alone. */
      providerId: z.uuid(),
      /**
       * The provider's name when the job was made, for people reading the queue (Bull Board,
       * `jobs failed`); never used to find the provider, which may have been renamed since.
       */
      provider: z.string().min(1).max(200).optional(),
      /** Why the sync runs; shown on the sync run. */
      trigger: z.enum(['schedule', 'manual']),
      /**
       * Waits the provider imposed on this job so far (429/503 with Retry-After); the worker
       * counts them and fails the job for good past RATE_LIMIT_MAX_DELAYS.
       */
      rateLimitDelays: z.number().int().min(0).optional(),
    }),
    /**
     * What a running sync reports as its BullMQ progress (`sync --wait` shows it). Sent at most a
     * few times a second: each update is a Redis round trip.
     */
    progress: z.object({
      /**
       * `parsing` once a single document is fetched; a walk of pages parses while it fetches.
       * `waiting`: the job was put off (see `waiting`); a walk keeps the counts of its pages so
       * far and resumes after them.
       */
      stage: z.enum(['fetching', 'parsing', 'writing', 'waiting']),
      /** Documents fetched so far (a resumed walk counts its earlier attempts' pages). */
      pages: z.number().int().min(0),
      /** Valid events read from the payload so far. */
      fetched: z.number().int().min(0),
      /** Rows inserted or changed so far. */
      written: z.number().int().min(0),
      /**
       * With stage `waiting`: for whom (the provider's Retry-After on a 429/503, the worker's
       * own politeness towards the host) and until when (ISO 8601).
       */
      waiting: z
        .object({ for: z.enum(['retry-after', 'politeness']), until: z.iso.datetime() })
        .optional(),
    }),
  },
  'webhook.deliver': {
    queue: QUEUE_NAMES.webhooks,
    payload: z.object({
      /** The message (its `webhook-id`); its endpoint, body and state are in PostgreSQL. */
      messageId: z.string().regex(/^msg_[\w-]{1,64}$/),
    }),
    /** A delivery is one HTTP request: it reports no progress. */
    progress: z.object({}),
  },
} as const;

export type JobName = keyof typeof jobCatalog;
export type JobPayload<N extends JobName> = z.output<(typeof jobCatalog)[N]['payload']>;

export type JobProgress<N extends JobName> = z.output<(typeof jobCatalog)[N]['progress']>;
export type SyncProgress = JobProgress<'provider.sync'>;
export type SyncStage = SyncProgress['stage'];

/** A job's progress as the catalog describes it, or undefined (an older or newer release's). */
export function readProgress<N extends JobName>(
  name: N,
  data: unknown,
): JobProgress<N> | undefined {
  const result = jobCatalog[name].progress.safeParse(data);
  return result.success ? (result.data as JobProgress<N>) : undefined;
}

export class InvalidJobError extends Error {
  override name = 'InvalidJobError';
}

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(jobCatalog, name);
}

export function parsePayload<N extends JobName>(name: N, data: unknown): JobPayload<N> {
  const result = jobCatalog[name].payload.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || 'payload'}: ${issue.message}`,
    );
    throw new InvalidJobError(`invalid ${name} payload: ${problems.join('; ')}`);
  }
  return result.data as JobPayload<N>;
}
