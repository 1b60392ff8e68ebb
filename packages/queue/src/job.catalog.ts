import { z } from 'zod';

/** Every queue Marquee uses. Keys in Redis: "<QUEUE_PREFIX>:<queue>:…". */
export const QUEUE_NAMES = { ingest: 'ingest' } as const;
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
    }),
  },
} as const;

export type JobName = keyof typeof jobCatalog;
export type JobPayload<N extends JobName> = z.output<(typeof jobCatalog)[N]['payload']>;

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
