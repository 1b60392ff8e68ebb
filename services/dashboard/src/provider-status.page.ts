import { formatDuration } from '@marquee/config';
import { escapeHtml } from './html.escape.ts';
import type { ProviderStatusRow } from './provider-status.source.ts';

export interface StatusPageOptions {
  rows: readonly ProviderStatusRow[];
  breakersUnavailable: boolean;
  /** Where Bull Board is mounted (a link from this page). */
  queuesPath: string;
  readOnly: boolean;
  now?: Date;
}

const STYLE = `body{font:14px system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.4rem .6rem;text-align:left;vertical-align:top}
th{background:#f5f5f5}.ok{color:#1a7f37}.bad{color:#c62828}.warn{color:#b26a00}.muted{color:#888}
td.num{text-align:right;font-variant-numeric:tabular-nums}.error{max-width:32rem;word-break:break-word}`;

function ago(from: Date, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - from.getTime()) / 1000));
  return `${formatDuration(seconds)} ago`;
}

function statusClass(status: string): string {
  return status === 'succeeded' ? 'ok' : status === 'failed' ? 'bad' : 'warn';
}

function breakerCell(row: ProviderStatusRow, unavailable: boolean): string {
  if (!row.breaker)
    return `<span class="muted">${unavailable ? 'unavailable' : 'no report'}</span>`;
  const { state, probeAt, lastError } = row.breaker;
  const css = state === 'closed' ? 'ok' : state === 'open' ? 'bad' : 'warn';
  const probe =
    state === 'open' && probeAt
      ? ` <span class="muted">(probe at ${escapeHtml(probeAt)})</span>`
      : '';
  const error = lastError
    ? `<br><span class="muted">last error: ${escapeHtml(lastError)}</span>`
    : '';
  return `<span class="${css}">${escapeHtml(state)}</span>${probe}${error}`;
}

function rowHtml(row: ProviderStatusRow, unavailable: boolean, now: Date): string {
  const sync = row.lastSync;
  const syncCells = sync
    ? `<td><span class="${statusClass(sync.status)}">${escapeHtml(sync.status)}</span> (${escapeHtml(sync.trigger)})<br>
<time datetime="${escapeHtml(sync.startedAt.toISOString())}">${escapeHtml(sync.startedAt.toISOString())}</time>
<span class="muted">${escapeHtml(ago(sync.startedAt, now))}</span></td>
<td class="num">${sync.fetched}</td><td class="num">${sync.upserted}</td><td class="num">${sync.unchanged}</td><td class="num">${sync.rejected}</td>
<td class="error">${sync.error ? `<span class="bad">${escapeHtml(sync.error)}</span>` : ''}</td>`
    : `<td class="muted">never synced</td><td></td><td></td><td></td><td></td><td></td>`;
  return `<tr><td><strong>${escapeHtml(row.name)}</strong><br><span class="muted">${escapeHtml(row.kind)}</span></td>
<td>${row.enabled ? '<span class="ok">enabled</span>' : '<span class="muted">disabled</span>'}</td>
<td>every ${escapeHtml(formatDuration(row.everySeconds))}</td>${syncCells}<td>${breakerCell(row, unavailable)}</td></tr>`;
}

/** The provider status page: server-rendered, every value escaped, no scripts. */
export function renderStatusPage(options: StatusPageOptions): string {
  const now = options.now ?? new Date();
  const body =
    options.rows.length === 0
      ? '<tr><td colspan="10" class="muted">No providers. Add one with <code>marquee providers add</code>.</td></tr>'
      : options.rows.map((row) => rowHtml(row, options.breakersUnavailable, now)).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Marquee providers</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><style>${STYLE}</style></head>
<body><h1>Marquee providers</h1>
<p><a href="${escapeHtml(options.queuesPath)}">Queues (Bull Board${options.readOnly ? ', read-only' : ''})</a> · rendered ${escapeHtml(now.toISOString())}</p>
<table><thead><tr><th>provider</th><th>state</th><th>interval</th><th>last sync</th><th>fetched</th><th>upserted</th><th>unchanged</th><th>rejected</th><th>last error</th><th>breaker</th></tr></thead>
<tbody>
${body}
</tbody></table></body></html>
`;
}
