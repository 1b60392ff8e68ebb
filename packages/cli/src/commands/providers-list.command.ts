import type { Command } from 'commander';
import { formatDuration, formatInstant } from '@marquee/config';
import {
  breakerReader,
  describeBreaker,
  ProviderStatusReader,
  type LastSyncView,
  type ProviderStatusView,
} from '@marquee/provider-status';
import type { CliContext, CliIo } from '../cli.context.ts';
import { json, table } from '../table.format.ts';

/** `marquee providers list`: each provider with its last sync and breaker (PostgreSQL + Redis). */
export function registerProvidersListCommand(
  providers: Command,
  context: () => CliContext,
  io: CliIo,
) {
  providers
    .command('list')
    .description('list providers with their last sync and circuit breaker')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const ctx = context();
      const [db, redis] = await Promise.all([ctx.db(), ctx.redis()]);
      const { ProviderStatusRepository } = await import('@marquee/db');
      const { providers: views } = await new ProviderStatusReader({
        statuses: new ProviderStatusRepository(db),
        breakers: breakerReader(redis, ctx.env.QUEUE_PREFIX),
      }).read();
      if (options.json) {
        io.out(json(views.map(toJson)));
        return;
      }
      if (views.length === 0) {
        io.out(
          'no providers; add one with: marquee providers add <name> --kind <kind> --url <url>',
        );
        return;
      }
      io.out(
        table(
          ['NAME', 'KIND', 'ENABLED', 'EVERY', 'EVENTS', 'LAST SYNC', 'BREAKER', 'URL'],
          views.map((view) => [
            view.name,
            view.kind,
            view.enabled ? 'yes' : 'no',
            formatDuration(view.everySeconds),
            String(view.events),
            view.lastSync ? summarizeRun(view.lastSync) : 'never',
            describeBreaker(view.breaker),
            view.url,
          ]),
        ),
      );
    });
}

function toJson(view: ProviderStatusView) {
  return {
    name: view.name,
    kind: view.kind,
    url: view.url,
    every: formatDuration(view.everySeconds),
    timezone: view.timezone,
    enabled: view.enabled,
    events: view.events,
    lastSuccessAt: view.lastSuccessAt,
    lastSync: view.lastSync,
    // null: the breaker reports could not be read; never reported: closed.
    breaker: view.breaker,
  };
}

function summarizeRun(run: LastSyncView): string {
  const when = formatInstant(run.startedAt);
  if (run.status === 'running') return `${when} running`;
  if (run.status === 'waiting') {
    // Put off by a rate limit, not failed: the job runs again by itself.
    const resumes = run.resumesAt ? `, resumes at ${formatInstant(run.resumesAt)}` : '';
    return `${when} waiting${resumes}: ${run.error ?? 'rate-limited'}`;
  }
  if (run.status !== 'succeeded') return `${when} ${run.status}: ${run.error ?? 'unknown error'}`;
  const flagged = run.flag && run.error ? `${run.flag}: ${run.error}` : run.flag;
  const flags = [flagged, run.truncated ? 'truncated' : null].filter((flag) => flag !== null);
  const flag = flags.length > 0 ? ` [${flags.join(', ')}]` : '';
  return `${when} ok${flag} (${run.upserted} upserted, ${run.unchanged} unchanged, ${run.rejected} rejected)`;
}
