// `marquee` as a process against a real worker and a vivenu-like API (skip/top, a Bearer token):
// a walk stopped at maxPages says `truncated` in `sync --wait` and `providers list`; an items path
// that matches nothing says `empty` naming the path there, and fails `providers test` (exit 1);
// `providers test` reads a real RSS event feed declared utf-16 over UTF-8 bytes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { apiEvents, REPO_ROOT, startVivenuLikeServer } from '@marquee/testing';
import { providersAdd, providersTest, useCliStack } from './cli.harness.ts';

const TOKEN_ENV = 'MARQUEE_TEST_CLI_PAGING_TOKEN';
const TOKEN = 'vivenu-cli-3';
const RSS = readFileSync(
  join(
    REPO_ROOT,
    'packages/providers/test/fixtures/real/xml/leinelab_php-icalendar_rss2_2015-01.xml',
  ),
  'utf8',
);

const stack = useCliStack({
  label: 'cli-paged-sync',
  env: { [TOKEN_ENV]: TOKEN },
  api: () => startVivenuLikeServer({ events: apiEvents(23, 'cli'), token: TOKEN }),
  feed: (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/rss+xml' });
    response.end(Buffer.from(`<?xml version="1.0" encoding="utf-16"?>\r\n${RSS}`, 'utf8'));
  },
  worker: 'process',
  workerEnv: { WORKER_CONCURRENCY: '1' },
});
const vivenuConfig = (extra: Record<string, unknown>) => ({
  items: 'rows',
  fields: { id: '_id', title: 'name', start: 'start', venueName: 'locationName' },
  pagination: { type: 'offset', offsetParam: 'skip', limitParam: 'top', limit: 5 },
  auth: { name: 'Authorization', prefix: 'Bearer ', env: TOKEN_ENV },
  ...extra,
});
/** `providers test|add … --url` the stand-in API's events. */
const eventsUrl = () => `${stack.api.url}/api/public/events`;

beforeAll(async () => {
  for (const [name, config] of [
    ['short', vivenuConfig({ maxPages: 2 })],
    ['wrong-path', vivenuConfig({ items: 'data' })],
  ] as const) {
    const file = stack.jsonFile(`${name}.json`, config);
    const added = await stack.bin(...providersAdd(name, 'json-api', eventsUrl(), '--config', file));
    expect(added.code).toBe(0);
  }
});

describe('sync --wait and providers list', () => {
  it('a walk stopped at maxPages says truncated', async () => {
    const result = await stack.bin('sync', 'short', '--wait', '--timeout', '60s');
    expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code: 0 });
    expect(result.stdout).toMatch(
      /^short: succeeded; fetched 10, parsed 10, .*; truncated: stopped at maxPages while the provider had more pages$/m,
    );
    const list = await stack.bin('providers', 'list');
    expect(list.stdout).toMatch(/ok \[truncated\] \(10 upserted/);
  });

  it('an items path that matches nothing says empty, naming the path', async () => {
    const result = await stack.bin('sync', 'wrong-path', '--wait', '--timeout', '60s');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^wrong-path: succeeded; fetched 0, .*; empty: items path "data" matched nothing, stored events kept$/m,
    );
    const list = await stack.bin('providers', 'list', '--json');
    const views = JSON.parse(list.stdout) as {
      name: string;
      lastSync: { flag: string; error: string; truncated: boolean };
    }[];
    expect(views.find((view) => view.name === 'wrong-path')?.lastSync).toMatchObject({
      flag: 'empty',
      error: 'items path "data" matched nothing',
      truncated: false,
    });
    expect((await stack.bin('providers', 'list')).stdout).toMatch(
      /ok \[empty: items path "data" matched nothing\]/,
    );
  });
});

describe('providers test', () => {
  it('fails (exit 1) naming an items path that matches nothing', async () => {
    const config = stack.jsonFile('test-wrong.json', vivenuConfig({ items: 'events' }));
    const result = await stack.bin(...providersTest('json-api', eventsUrl(), '--config', config));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^error: items path "events" matched nothing in the payload of http:\/\/127\.0\.0\.1:\d+\/api\/public\/events$/m,
    );
  });

  it('reads a real RSS event feed declared utf-16 over UTF-8 bytes', async () => {
    const url = `${stack.feed.url}/rss2.0.php`;
    const result = await stack.bin(
      ...providersTest('xml-feed', url, '--timezone', 'Europe/Berlin'),
    );
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^2 event\(s\), 0 rejected, 2 item\(s\) in the payload$/m);
    expect(result.stdout).toMatch(/Do Jan 1 2015: Un-Cloud yourself +2015-01-01T18:00:00\.000Z/);
  });
});
