import type { ProviderRepository } from '@marquee/db';
import type { IngestQueue } from '@marquee/queue';

export interface ReconcileResult {
  upserted: string[];
  removed: string[];
  unchanged: number;
}

/**
 * Makes the queue hold exactly one Job Scheduler per enabled provider, at the provider's
 * interval, and none for anything else. Only differences are written: an up-to-date scheduler
 * is left alone, because re-upserting would enqueue an extra immediate run.
 */
export async function reconcileSchedules(
  providers: ProviderRepository,
  queue: IngestQueue,
): Promise<ReconcileResult> {
  const [enabled, existing] = await Promise.all([providers.listEnabled(), queue.listSchedules()]);
  const current = new Map(existing.map((schedule) => [schedule.providerId, schedule]));
  const result: ReconcileResult = { upserted: [], removed: [], unchanged: 0 };
  for (const provider of enabled) {
    const schedule = current.get(provider.id);
    current.delete(provider.id);
    if (schedule?.everyMs === provider.everySeconds * 1000) {
      result.unchanged += 1;
      continue;
    }
    await queue.upsertSchedule(provider.id, provider.everySeconds);
    result.upserted.push(provider.name);
  }
  for (const stale of current.values()) {
    await queue.removeSchedule(stale.providerId);
    result.removed.push(stale.providerId);
  }
  return result;
}
