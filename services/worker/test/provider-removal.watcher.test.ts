// The removal watcher on real PostgreSQL: requests of many providers under way cost one query per
// tick (counted at the driver), a removed provider's requests are aborted and no other's, and
// nothing is queried while no request is watched. A short interval keeps the ticks quick.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import pg from 'pg';
import { createDb, ProviderRepository, type Provider } from '@marquee/db';
import { databaseStackFor, eventually, feverProvider, freePort } from '@marquee/testing';
import { ProviderRemovalWatcher } from '../src/provider-removal.watcher.ts';

const INTERVAL_MS = 50;
const stack = databaseStackFor('provider_removal_watcher', { beforeAll, afterAll });
let queries = 0;
// Patched for this file and put back in afterAll; called with `apply`, on its own `this`.
// eslint-disable-next-line @typescript-eslint/unbound-method
const query = pg.Client.prototype.query;

beforeAll(() => {
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    queries += 1;
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
});
afterAll(() => {
  pg.Client.prototype.query = query;
});

/** A watcher on the real table whose ticks (calls of `existing`) are recorded with their ids. */
function countedWatcher() {
  const ticks: string[][] = [];
  const watcher = new ProviderRemovalWatcher(async (ids) => {
    ticks.push(ids);
    return stack.providers.existing(ids);
  }, INTERVAL_MS);
  return { watcher, ticks };
}

async function createProviders(count: number, label: string): Promise<Provider[]> {
  const created: Provider[] = [];
  for (let n = 0; n < count; n += 1)
    created.push(await stack.providers.create(feverProvider(`${label}-${n}`, 'http://a.invalid/')));
  return created;
}

it('asks once per tick for all the providers under way and aborts only the removed ones', async () => {
  const providers = await createProviders(8, 'watched');
  const [removed] = providers as [Provider, ...Provider[]];
  const { watcher, ticks } = countedWatcher();
  // Two requests of the first provider, one of each other.
  const requests = [removed, ...providers].map((provider) => {
    const controller = new AbortController();
    return { provider, controller, unwatch: watcher.watch(provider.id, controller) };
  });
  await stack.providers.remove(removed.name);
  queries = 0;
  const from = ticks.length;
  await eventually(() => Promise.resolve(ticks.length >= from + 3 || undefined), 10_000, '3 ticks');
  await eventually(
    () => Promise.resolve(requests[0]?.controller.signal.aborted || undefined),
    10_000,
    'the removed provider aborted',
  );
  const seen = ticks.slice(from);
  // One statement per tick, give or take the tick under way at either end of the count.
  expect(queries).toBeGreaterThanOrEqual(seen.length - 1);
  expect(queries).toBeLessThanOrEqual(seen.length + 1);
  for (const ids of seen) expect(new Set(ids)).toEqual(new Set(providers.map((p) => p.id)));
  expect(requests.map((request) => request.controller.signal.aborted)).toEqual([
    true,
    true,
    ...providers.slice(1).map(() => false),
  ]);
  for (const request of requests) request.unwatch();
});

it('queries nothing while no request is watched, and starts again on the next one', async () => {
  const [idle, busy] = await createProviders(2, 'idle');
  const { watcher, ticks } = countedWatcher();
  watcher.watch(idle?.id ?? '', new AbortController())();
  // A second watcher on the same interval, kept busy: three of its ticks are three the idle one
  // would have had.
  const sentinel = countedWatcher();
  const stop = sentinel.watcher.watch(busy?.id ?? '', new AbortController());
  await eventually(
    () => Promise.resolve(sentinel.ticks.length >= 3 || undefined),
    10_000,
    'the sentinel ticked',
  );
  stop();
  expect(ticks).toEqual([]);
  const unwatch = watcher.watch(idle?.id ?? '', new AbortController());
  await eventually(() => Promise.resolve(ticks.length >= 1 || undefined), 10_000, 'a tick');
  unwatch();
  expect(ticks[0]).toEqual([idle?.id]);
});

it('takes an unreadable database for no removal', async () => {
  // A repository on a port nothing listens on: every tick's query fails to connect.
  const gone = createDb({
    databaseUrl: `postgres://postgres@127.0.0.1:${await freePort()}/gone`,
    maxConnections: 1,
  });
  const controller = new AbortController();
  let asked = 0;
  const watcher = new ProviderRemovalWatcher((ids) => {
    asked += 1;
    return new ProviderRepository(gone).existing(ids);
  }, INTERVAL_MS);
  const unwatch = watcher.watch('00000000-0000-0000-0000-000000000000', controller);
  try {
    await eventually(() => Promise.resolve(asked >= 2 || undefined), 10_000, 'two ticks');
  } finally {
    unwatch();
    await gone.$disconnect();
  }
  expect(controller.signal.aborted).toBe(false);
});
