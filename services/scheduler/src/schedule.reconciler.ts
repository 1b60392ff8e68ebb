import type { Provider, ProviderRepository } from '@marquee/db';
import { IngestQueue, type ScheduleInfo } from '@marquee/queue';

export interface ReconcileResult {
  /** Names of the providers whose scheduler was created or changed. */
  upserted: string[];
  /** Ids of the schedulers removed. */
  removed: string[];
  unchanged: number;
}

/**
 * Makes the queue hold exactly one Job Scheduler per enabled provider, named after it and at its
 * interval, and none for anything else: disabled or removed providers, a renamed provider's old
 * name, and the `provider-<uuid>` schedulers of earlier releases. Only differences are written:
 * an up-to-date scheduler is left alone, because re-upserting would enqueue an extra immediate
 * run. New schedulers are written before stale ones go, so a pass cut short never leaves a
 * provider without one.
 */
export async function reconcileSchedules(
  providers: ProviderRepository,
  queue: IngestQueue,
): Promise<ReconcileResult> {
  const [enabled, existing] = await Promise.all([providers.listEnabled(), queue.listSchedules()]);
  const current = new Map(existing.map((schedule) => [schedule.id, schedule]));
  const result: ReconcileResult = { upserted: [], removed: [], unchanged: 0 };
  const wanted = new Set<string>();
  for (const provider of enabled) {
    const id = IngestQueue.scheduleId(provider.name);
    wanted.add(id);
    if (upToDate(current.get(id), provider)) {
      result.unchanged += 1;
      continue;
    }
    await queue.upsertSchedule(provider);
    result.upserted.push(provider.name);
  }
  for (const stale of existing) {
    if (wanted.has(stale.id)) continue;
    await queue.removeSchedule(stale.id);
    result.removed.push(stale.id);
  }
  return result;
}

function upToDate(schedule: ScheduleInfo | undefined, provider: Provider): boolean {
  return (
    schedule?.everyMs === provider.everySeconds * 1000 &&
    schedule.providerId === provider.id &&
    schedule.providerName === provider.name
  );
}
