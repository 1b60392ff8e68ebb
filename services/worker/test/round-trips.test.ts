// What one sync costs in round trips, counted at the drivers (every pg query, every Redis
// command) while the pipeline runs: the unchanged provider is the common case of a cycle, so its
// count is pinned. A step that adds a statement or a command to it fails here.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Provider } from '@marquee/db';
import { feverFeed, startFeedServer, type FeedServer } from '@marquee/testing';
import { startStepHarness, type StepHarness } from './step.harness.ts';

let harness: StepHarness;
let site: FeedServer;
let etags = true;
const FEED = feverFeed(100);

const counted = { postgres: [] as string[], redis: [] as string[], on: false };
// Patched for this file and put back in afterAll; called with `apply`, on their own `this`.
// eslint-disable-next-line @typescript-eslint/unbound-method
const query = pg.Client.prototype.query;
// eslint-disable-next-line @typescript-eslint/unbound-method
const sendCommand = Redis.prototype.sendCommand;

beforeAll(async () => {
  harness = await startStepHarness('round_trips');
  site = await startFeedServer((request, response) => {
    if (etags && request.headers['if-none-match'] === '"v1"') {
      return void response.writeHead(304, { etag: '"v1"' }).end();
    }
    response
      .writeHead(200, { 'content-type': 'application/xml', ...(etags && { etag: '"v1"' }) })
      .end(FEED);
  });
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    if (counted.on) counted.postgres.push(String((args[0] as { text?: string }).text ?? args[0]));
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  Redis.prototype.sendCommand = function (this: Redis, ...args: Parameters<Redis['sendCommand']>) {
    if (counted.on) counted.redis.push(args[0].name);
    return sendCommand.apply(this, args);
  };
});
afterAll(async () => {
  pg.Client.prototype.query = query;
  Redis.prototype.sendCommand = sendCommand;
  await site.close();
  await harness.close();
});

/** Runs the pipeline on one locked job; counts only what the pipeline itself sends. */
async function sync(provider: Provider) {
  const { job, token } = await harness.takeJob(provider);
  counted.postgres = [];
  counted.redis = [];
  counted.on = true;
  try {
    return await harness.runtime.processSync(job, token);
  } finally {
    counted.on = false;
  }
}

describe('round trips of one sync', () => {
  it('an unchanged provider: 3 PostgreSQL statements and 5 Redis commands, by 304 or by content hash', async () => {
    const provider = await harness.addProvider({ url: `${site.url}/feed.xml` });
    expect(await sync(provider)).toMatchObject({ upserted: 100 });

    expect(await sync(provider)).toMatchObject({ upserted: 0, unchanged: 100 });
    // The provider, the run opened (with the fetch state), the run closed; the provider's sync
    // claimed, the progress announcement, the host lease taken and released, the claim released.
    expect(counted.postgres).toHaveLength(3);
    expect(counted.redis).toHaveLength(5);

    etags = false;
    expect(await sync(provider)).toMatchObject({ upserted: 0, unchanged: 100 });
    expect(counted.postgres).toHaveLength(3);
    expect(counted.redis).toHaveLength(5);
  });
});
