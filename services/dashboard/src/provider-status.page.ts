import { formatDuration, formatInstant } from '@marquee/config';
import type { SyncRunStatus, WebhookEndpointHealth } from '@marquee/db';
import {
  describeBreaker,
  type ProviderStatusReport,
  type ProviderStatusView,
} from '@marquee/provider-status';
import type { QueueDepth, ScheduleInfo } from '@marquee/queue';
import { escapeHtml } from './html.escape.ts';

export interface StatusPageOptions {
  report: ProviderStatusReport;
  /** null when the queue's Redis could not be read. */
  depth: QueueDepth | null;
  /** Each provider's Job Scheduler by provider id (for the link to its next run). */
  schedules: ReadonlyMap<string, ScheduleInfo>;
  /** Every webhook endpoint with its delivery health; never its secret. */
  webhooks: readonly WebhookEndpointHealth[];
  /** Where Bull Board is mounted, and the queue the providers' jobs run on. */
  queuesPath: string;
  queueName: string;
  readOnly: boolean;
  /** The page reloads itself this often. */
  refreshSeconds: number;
  now?: Date;
}

const STYLE = `body{font:14px system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.4rem .6rem;text-align:left;vertical-align:top}
th{background:#f5f5f5}.ok{color:#1a7f37}.bad{color:#c62828}.warn{color:#b26a00}.muted{color:#888}
td.num{text-align:right;font-variant-numeric:tabular-nums}.error{max-width:28rem;word-break:break-word}
.depth{display:flex;gap:1.5rem;margin:1rem 0 1.5rem;padding:0;list-style:none}.depth li{font-size:1.1rem}
.depth a{text-decoration:none}.depth b{font-variant-numeric:tabular-nums}nav{font-size:.85em;margin-top:.2rem}
nav a{margin-right:.6rem}.nowrap,time{white-space:nowrap}`;

const STATUS_CLASS: Record<SyncRunStatus, string> = {
  succeeded: 'ok',
  failed: 'bad',
  running: 'warn',
  skipped: 'warn',
  waiting: 'warn',
};

function statusClass(status: string): string {
  return (STATUS_CLASS as Record<string, string | undefined>)[status] ?? 'warn';
}

function ago(iso: string, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  return `${formatDuration(seconds)} ago`;
}

/** `2026-12-07 02:19:22Z`: what a person reads of an ISO time. */
function shownTime(iso: string): string {
  return formatInstant(iso).replace('T', ' ');
}

/** `2026-12-07 02:19:22Z`, then how long ago; the exact ISO time stays in `datetime`. */
function time(iso: string, now: Date): string {
  return `<time datetime="${escapeHtml(iso)}">${escapeHtml(shownTime(iso))}</time><br><span class="muted">${escapeHtml(ago(iso, now))}</span>`;
}

/** Links into Bull Board: a queue view by job state, or one job. */
class BoardLinks {
  constructor(
    private readonly base: string,
    private readonly queue: string,
  ) {}

  state(state: string): string {
    return `${this.base}/queue/${encodeURIComponent(this.queue)}?status=${state}`;
  }

  job(jobId: string): string {
    return `${this.base}/queue/${encodeURIComponent(this.queue)}/${encodeURIComponent(jobId)}`;
  }
}

function depthHtml(depth: QueueDepth | null, links: BoardLinks): string {
  if (!depth) return '<p class="bad">Queue depth unknown: Redis could not be read.</p>';
  const item = (label: string, count: number, state: string, css = '') =>
    `<li><a href="${escapeHtml(links.state(state))}">${label} <b class="${css}">${count}</b></a></li>`;
  return `<ul class="depth" aria-label="queue depth">${[
    item('waiting', depth.waiting, 'waiting'),
    item('active', depth.active, 'active'),
    item('delayed, due', depth.delayedDue, 'delayed', depth.delayedDue > 0 ? 'warn' : ''),
    item('scheduled', depth.delayedLater, 'delayed', 'muted'),
    item('failed', depth.failed, 'failed', depth.failed > 0 ? 'bad' : ''),
  ].join('')}</ul>`;
}

function breakerCell(view: ProviderStatusView): string {
  const state = view.breaker?.state;
  const css = state === 'closed' ? 'ok' : state === 'open' ? 'bad' : 'warn';
  return `<span class="${css}">${escapeHtml(describeBreaker(view.breaker))}</span>`;
}

function jobLinks(view: ProviderStatusView, schedule: ScheduleInfo | undefined, links: BoardLinks) {
  const parts: string[] = [];
  if (view.lastSync?.jobId)
    parts.push(`<a href="${escapeHtml(links.job(view.lastSync.jobId))}">last job</a>`);
  if (schedule?.nextJobId)
    parts.push(`<a href="${escapeHtml(links.job(schedule.nextJobId))}">next run</a>`);
  return parts.length > 0 ? `<nav>${parts.join('')}</nav>` : '';
}

function syncCells(view: ProviderStatusView, now: Date): string {
  const sync = view.lastSync;
  if (!sync)
    return '<td class="muted">never synced</td><td></td><td></td><td></td><td></td><td></td>';
  const status = `<span class="${statusClass(sync.status)}">${escapeHtml(sync.status)}</span>`;
  const flag = sync.flag ? ` <span class="muted">[${escapeHtml(sync.flag)}]</span>` : '';
  // A rate-limited run's job runs again by itself: when is what the operator needs.
  const resumes =
    sync.status === 'waiting' && sync.resumesAt
      ? `<br><span class="warn">resumes at <time datetime="${escapeHtml(sync.resumesAt)}">${escapeHtml(shownTime(sync.resumesAt))}</time></span>`
      : '';
  return `<td>${status}${flag} (${escapeHtml(sync.trigger)})${resumes}<br>${time(sync.startedAt, now)}</td>
<td class="num">${sync.fetched}</td><td class="num">${sync.upserted}</td><td class="num">${sync.unchanged}</td><td class="num">${sync.rejected}</td>
<td class="error">${sync.error ? `<span class="${statusClass(sync.status)}">${escapeHtml(sync.error)}</span>` : ''}</td>`;
}

function rowHtml(view: ProviderStatusView, options: StatusPageOptions, now: Date): string {
  const links = new BoardLinks(options.queuesPath, options.queueName);
  const success = view.lastSuccessAt
    ? time(view.lastSuccessAt, now)
    : '<span class="muted">never</span>';
  return `<tr id="provider-${escapeHtml(view.name)}"><td class="nowrap"><strong>${escapeHtml(view.name)}</strong><br><span class="muted">${escapeHtml(view.kind)}</span>
${jobLinks(view, options.schedules.get(view.id), links)}</td>
<td class="nowrap">${view.enabled ? '<span class="ok">enabled</span>' : '<span class="muted">disabled</span>'}<br>every ${escapeHtml(formatDuration(view.everySeconds))}</td>
<td class="num">${view.events}</td><td>${success}</td>${syncCells(view, now)}<td>${breakerCell(view)}</td></tr>`;
}

/** A count, flagged when not zero. */
function countCell(count: number, flag: 'warn' | 'bad'): string {
  return `<td class="num${count > 0 ? ` ${flag}` : ''}">${count}</td>`;
}

function webhookRowHtml(endpoint: WebhookEndpointHealth, now: Date): string {
  const provider = endpoint.provider
    ? `<br><span class="muted">provider ${escapeHtml(endpoint.provider)}</span>`
    : '';
  const last = endpoint.lastDeliveredAt
    ? time(endpoint.lastDeliveredAt.toISOString(), now)
    : '<span class="muted">never</span>';
  return `<tr id="webhook-${escapeHtml(endpoint.id)}"><td class="error">${escapeHtml(endpoint.url)}</td><td>${escapeHtml(endpoint.kinds.join(', '))}${provider}</td>
<td>${last}</td><td class="num">${endpoint.delivered}</td>${countCell(endpoint.pending, 'warn')}
${countCell(endpoint.failed, 'bad')}<td class="error">${endpoint.lastError ? `<span class="bad">${escapeHtml(endpoint.lastError)}</span>` : ''}</td></tr>`;
}

/** Webhook endpoints and their delivery health; dead letters are listed by `marquee webhooks failed`. */
function webhooksHtml(webhooks: readonly WebhookEndpointHealth[], now: Date): string {
  const body =
    webhooks.length === 0
      ? '<tr><td colspan="7" class="muted">No webhook endpoints. Add one with <code>marquee webhooks add</code>.</td></tr>'
      : webhooks.map((endpoint) => webhookRowHtml(endpoint, now)).join('\n');
  return `<h2>Webhook endpoints</h2>
<table aria-label="webhook endpoints"><thead><tr><th>url</th><th>events</th><th>last delivered</th><th>delivered</th><th>backlog</th><th>failed (dead letters)</th><th>last error</th></tr></thead>
<tbody>
${body}
</tbody></table>`;
}

/** The provider status page: server-rendered, every value escaped, no scripts. */
export function renderStatusPage(options: StatusPageOptions): string {
  const now = options.now ?? new Date();
  const { providers } = options.report;
  const links = new BoardLinks(options.queuesPath, options.queueName);
  const body =
    providers.length === 0
      ? '<tr><td colspan="11" class="muted">No providers. Add one with <code>marquee providers add</code>.</td></tr>'
      : providers.map((view) => rowHtml(view, options, now)).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Marquee providers</title>
<meta http-equiv="refresh" content="${options.refreshSeconds}">
<meta name="viewport" content="width=device-width,initial-scale=1"><style>${STYLE}</style></head>
<body><h1>Marquee providers</h1>
<p><a href="${escapeHtml(options.queuesPath)}">Queues (Bull Board${options.readOnly ? ', read-only' : ''})</a> · <a href="${escapeHtml(`${options.queuesPath}/job-schedulers`)}">Job Schedulers</a> · rendered ${escapeHtml(now.toISOString())}, refreshes every ${options.refreshSeconds} s</p>
${depthHtml(options.depth, links)}
<table><thead><tr><th>provider</th><th>schedule</th><th>events</th><th>last success</th><th>last sync</th><th>fetched</th><th>upserted</th><th>unchanged</th><th>rejected</th><th>last error</th><th>breaker</th></tr></thead>
<tbody>
${body}
</tbody></table>
${webhooksHtml(options.webhooks, now)}</body></html>
`;
}
