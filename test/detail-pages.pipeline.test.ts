// Detail pages through the real worker runtime (BullMQ on Redis, PostgreSQL, the guarded fetch
// chain): a jsonld-html provider with `detail` follows each listed event's link to its own page
// and reads it (a selector, then the page's JSON-LD). The listing and the event page are real
// Meetup pages (packages/providers/test/fixtures/real/html, see SOURCES.md), served by a local
// stand-in of www.meetup.com. An event page that is gone keeps the listed event; a 502 on one
// fails the walk, whose retry resumes at that event, not at the first.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Db, Provider } from '@marquee/db';
import { REPO_ROOT, startFeedServer, type FeedServer } from '@marquee/testing';
import type { SyncSummary } from '@marquee/worker';
import { startPipelineStack, type PipelineStack } from './pipeline.stack.ts';

const FIXTURES = join(REPO_ROOT, 'packages/providers/test/fixtures/real/html');
const LISTING = readFileSync(join(FIXTURES, 'meetup_python-spokane_group_2024.html'), 'utf8');
const EVENT_PAGE = readFileSync(join(FIXTURES, 'meetup_python-spokane_event_2024.html'), 'utf8');
const EVENTS = '/python-spokane/events/';

let stack: PipelineStack;
let db: Db;
let site: FeedServer;
let provider: Provider;
/** Event pages answered 502 the next time they are asked for. */
const failNext = new Set<string>();
/** Answers per path and status: `/python-spokane/ 200` → 1. */
const answers = new Map<string, number>();

/** The stand-in of www.meetup.com: the real pages, their absolute links pointing to it. */
function serve(path: string): { status: number; body?: string } {
  const local = (html: string) => html.replaceAll('https://www.meetup.com', site.url);
  if (path === '/python-spokane/') return { status: 200, body: local(LISTING) };
  if (failNext.delete(path)) return { status: 502 };
  if (path === `${EVENTS}298213205/`) return { status: 200, body: local(EVENT_PAGE) };
  return { status: 404 };
}

beforeAll(async () => {
  stack = await startPipelineStack({
    label: 'detail-pages',
    workerEnv: { WORKER_CONCURRENCY: '1' },
  });
  ({ db } = stack);
  site = await startFeedServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://site').pathname;
    const { status, body } = serve(path);
    const key = `${path} ${status}`;
    answers.set(key, (answers.get(key) ?? 0) + 1);
    response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(body ?? '');
  });
  provider = await stack.providers.create({
    name: 'spokane-python',
    kind: 'jsonld-html',
    url: `${site.url}/python-spokane/`,
    everySeconds: 3600,
    timezone: 'America/Los_Angeles',
    config: {
      maxPages: 1,
      detail: { fields: { performers: 'a[data-event-label="hosted-by"]@aria-label' } },
    },
  });
});

afterAll(async () => {
  await stack.close();
  await site.close();
});

const sync = (): Promise<SyncSummary> =>
  stack.sync(provider, { attempts: 3, backoff: { type: 'fixed', delay: 100 } }, 30_000);

describe('a listing whose events have their own pages', () => {
  it('reads each event page; a gone page keeps the listed event; a 502 resumes at its event', async () => {
    failNext.add(`${EVENTS}298346552/`);
    expect(await sync()).toMatchObject({ fetched: 4, parsed: 4, upserted: 4, rejected: 0 });
    const sorted = [...answers.entries()].filter(([key]) => !key.startsWith('/robots.txt'));
    expect(new Map(sorted)).toEqual(
      new Map([
        // The listing twice: the retry reads it again to find the events left.
        ['/python-spokane/ 200', 2],
        [`${EVENTS}298213205/ 200`, 1],
        [`${EVENTS}299750715/ 404`, 1],
        [`${EVENTS}298346552/ 502`, 1],
        [`${EVENTS}298346552/ 404`, 1],
        [`${EVENTS}298346579/ 404`, 1],
      ]),
    );
    const rows = await db.event.findMany({
      where: { providerId: provider.id },
      orderBy: { startsAt: 'asc' },
      select: { title: true, startsAt: true, performers: true, venueLat: true, venueName: true },
    });
    expect(rows.map((row) => [row.title, row.performers, row.venueLat])).toEqual([
      // From its page: the host (a selector) and the venue's coordinates (its JSON-LD).
      ['Dagger with Spokane Tech 🚀', ['Hosted By Joe R.'], 47.65278],
      ['Coffee & Code - Spokane ☕', ['Spokane Python User Group'], null],
      ['Monthly Meetup 🐍', ['Spokane Python User Group'], null],
      ['Monthly Meetup 🐍', ['Spokane Python User Group'], null],
    ]);
    expect(rows[0]?.startsAt.toISOString()).toBe('2024-03-20T01:00:00.000Z');
    const runs = await db.syncRun.findMany({
      where: { providerId: provider.id },
      orderBy: { startedAt: 'asc' },
      select: { status: true, parsed: true, error: true, rejects: true },
    });
    expect(runs.map((run) => [run.status, run.parsed])).toEqual([
      ['failed', 2],
      ['succeeded', 4],
    ]);
    expect(runs[0]?.error).toMatch(/502/);
  });
});
