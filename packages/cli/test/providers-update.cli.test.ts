// Issue 12, item 1: `marquee providers update` changes a provider in place (id, events, sync
// history and the scheduler's provider stay) and the Job Scheduler follows within seconds, with
// the scheduler service's own reconcile loop listening for changes as deployed.
import { describe, expect, it } from '@jest/globals';
import { SyncRunRepository } from '@marquee/db';
import { eventually } from '@marquee/testing';
import { providersAdd, useCliStack } from './cli.harness.ts';

const stack = useCliStack({ label: 'cli-update', scheduler: true });

const everyOf = async (name: string) =>
  (await stack.queue.listSchedules()).find((schedule) => schedule.providerName === name)?.everyMs;

/** Waits (5 s at most, as the issue allows) until the provider's Job Scheduler has this interval. */
const scheduleFollows = (name: string, everyMs: number | undefined) =>
  eventually(
    async () => ((await everyOf(name)) === everyMs ? true : undefined),
    5_000,
    `the schedule of ${name} at ${everyMs} ms`,
  );

describe('providers update', () => {
  it('changes the provider in place and the Job Scheduler follows', async () => {
    const add = providersAdd('discogs', 'fever-xml', 'http://127.0.0.1:9/v1.xml', '--every', '5m');
    expect((await stack.marquee(...add)).code).toBe(0);
    await scheduleFollows('discogs', 300_000);
    const before = await stack.providers.findByName('discogs');
    if (!before) throw new Error('discogs was not added');
    const providerId = before.id;
    await stack.storeEvent(before);
    await new SyncRunRepository(stack.db).openRun(providerId, 'manual', undefined);

    const updated = await stack.marquee(
      ...['providers', 'update', 'discogs', '--url', 'http://127.0.0.1:9/v2.xml'],
      ...['--every', '90s', '--timezone', 'Europe/Madrid'],
    );
    expect(updated).toMatchObject({
      code: 0,
      out: 'updated provider discogs: url http://127.0.0.1:9/v2.xml, every 1m30s, timezone Europe/Madrid',
    });
    expect(await stack.providers.findByName('discogs')).toMatchObject({
      id: providerId,
      url: 'http://127.0.0.1:9/v2.xml',
      everySeconds: 90,
      timezone: 'Europe/Madrid',
      kind: 'fever-xml',
    });
    expect(await stack.db.event.count({ where: { providerId } })).toBe(1);
    expect(await stack.db.syncRun.count({ where: { providerId } })).toBe(1);
    await scheduleFollows('discogs', 90_000);

    expect((await stack.marquee('providers', 'update', 'discogs', '--disable')).out).toBe(
      'updated provider discogs: disabled',
    );
    await scheduleFollows('discogs', undefined);
    expect((await stack.marquee('providers', 'update', 'discogs', '--enable')).code).toBe(0);
    await scheduleFollows('discogs', 90_000);
  });

  it('replaces the config after checking it against the kind', async () => {
    const mapping = { items: 'data', fields: { title: 'name', start: 'date' } };
    const config = stack.jsonFile('api.json', mapping);
    const add = providersAdd('api', 'json-api', 'http://127.0.0.1:9/api', '--config', config);
    expect((await stack.marquee(...add)).code).toBe(0);
    const next = stack.jsonFile('api-ua.json', {
      ...mapping,
      headers: { 'User-Agent': 'MyApp/1.0' },
    });
    expect((await stack.marquee('providers', 'update', 'api', '--config', next)).out).toBe(
      'updated provider api: config',
    );
    expect((await stack.providers.findByName('api'))?.config).toMatchObject({
      headers: { 'User-Agent': 'MyApp/1.0' },
    });
    const bad = stack.jsonFile('bad.json', {
      items: 'data',
      fields: { title: 'name' },
      maxPage: 3,
    });
    const refused = await stack.marquee('providers', 'update', 'api', '--config', bad);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/--config: invalid json-api config: .*maxPage/);
  });

  it.each([
    [['nobody', '--every', '5m'], /no provider named "nobody"/],
    [['api'], /nothing to update/],
    [['api', '--enable', '--disable'], /cannot be given together/],
    [['api', '--every', 'soon'], /--every: "soon" is not a duration/],
    [['api', '--url', 'ftp://x/y'], /--url must be http or https/],
  ])('refuses %j with exit 2, changing nothing', async (args, message) => {
    const before = await stack.providers.findByName('api');
    const result = await stack.marquee('providers', 'update', ...args);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
    expect(await stack.providers.findByName('api')).toEqual(before);
  });
});
