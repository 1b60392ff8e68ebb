// A jsonld-html provider (a real Songkick page served locally) through the real worker pipeline:
// BullMQ on Redis, the worker runtime, Postgres, and the search API. The new event details land
// in the events table, a re-sync writes nothing, and /search keeps its Fever contract.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Provider } from '@marquee/db';
import { REPO_ROOT, startFeedServer, type FeedServer } from '@marquee/testing';
import type { SyncSummary } from '@marquee/worker';
import { startPipelineStack, type PipelineStack } from './pipeline.stack.ts';

const page = readFileSync(
  join(
    REPO_ROOT,
    'packages/providers/test/fixtures/real/html/songkick_years-and-years_tour-dates_2015.html',
  ),
);

let stack: PipelineStack;
let site: FeedServer;
let provider: Provider;

beforeAll(async () => {
  stack = await startPipelineStack({
    label: 'kinds-pipeline',
    workerEnv: { WORKER_CONCURRENCY: '1', FETCH_MAX_BYTES: '2000000' },
    api: true,
  });
  site = await startFeedServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
  });
  provider = await stack.providers.create({
    name: 'songkick-years',
    kind: 'jsonld-html',
    url: `${site.url}/artists/years-and-years`,
    everySeconds: 3600,
    timezone: 'Europe/London',
    config: { maxPages: 1 },
  });
});

afterAll(async () => {
  await stack.close();
  await site.close();
});

const sync = (): Promise<SyncSummary> => stack.sync(provider);

interface StoredEvent {
  title: string;
  start_at: Date;
  all_day: boolean;
  url: string | null;
  venue_name: string | null;
  venue_city: string | null;
  venue_country: string | null;
  venue_lat: number | null;
  performers: string[];
  status: string | null;
}

describe('a jsonld-html provider through the worker', () => {
  it('stores the 13 events with venue, url, performers and all-day dates', async () => {
    expect(await sync()).toMatchObject({ fetched: 13, parsed: 13, upserted: 13, rejected: 0 });
    const rows = await stack.db.$queryRaw<StoredEvent[]>`
      SELECT title, start_at, all_day, url, venue_name, venue_city, venue_country, venue_lat,
        performers, status
      FROM events ORDER BY start_at, url`;
    expect(rows).toHaveLength(13);
    const cliffs = rows.find((row) => row.venue_name === 'Cliffs Pavillion');
    expect(cliffs).toMatchObject({
      title: 'Years & Years',
      all_day: false,
      venue_city: 'Westcliff-on-sea',
      venue_country: 'UK',
      performers: ['Years & Years', 'Shamir'],
    });
    expect(cliffs?.venue_lat).toBeCloseTo(51.535879, 5);
    expect(cliffs?.url).toMatch(/^http:\/\/www\.songkick\.com\/concerts\//);
    expect(cliffs?.start_at.toISOString()).toBe('2015-10-26T19:00:00.000Z');
    const manchester = rows.filter((row) => row.venue_name === 'Victoria Warehouse');
    expect(manchester.map((row) => row.all_day).sort()).toEqual([false, true]);
  });

  it('a re-sync of the same page writes nothing (details are part of the content hash)', async () => {
    expect(await sync()).toMatchObject({ parsed: 13, upserted: 0, unchanged: 13, changed: false });
  });

  it('/search lists them with its unchanged Fever fields', async () => {
    const response = await fetch(
      `${stack.apiUrl}/search?starts_at=2015-10-01T00:00:00Z&ends_at=2015-11-30T00:00:00Z`,
    );
    const body = (await response.json()) as { data: { events: Record<string, unknown>[] } };
    expect(body.data.events).toHaveLength(13);
    expect(Object.keys(body.data.events[0] ?? {})).toEqual([
      'id',
      'title',
      'start_date',
      'start_time',
      'end_date',
      'end_time',
      'min_price',
      'max_price',
    ]);
    expect(body.data.events).toContainEqual(
      expect.objectContaining({
        title: 'Years & Years',
        start_date: '2015-10-26',
        start_time: '19:00:00',
      }),
    );
  });
});
