// What one sync costs in round trips, counted at the drivers (every pg query, every Redis
// command) while the pipeline runs: the unchanged provider is the common case of a cycle, the
// first ingest and 100 new events the others, so their counts are pinned. A step that adds a
// statement or a command to one of them fails here.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Provider } from '@marquee/db';
import { feverFeed, startFeedServer, type FeedServer } from '@marquee/testing';
import { startStepHarness, type StepHarness } from './step.harness.ts';

let harness: StepHarness;
let site: FeedServer;
let etags = true;
let feed = feverFeed(100);

/** Progress updates are timer-driven (a sync slower than the interval sends them): counted apart. */
const counted = {
  postgres: [] as string[],
  redis: [] as string[],
  /** The connection each counted command was sent on (progress updates included). */
  connections: [] as Redis[],
  progress: 0,
  on: false,
};
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
      .end(feed);
  });
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    if (counted.on) counted.postgres.push(String((args[0] as { text?: string }).text ?? args[0]));
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  Redis.prototype.sendCommand = function (this: Redis, ...args: Parameters<Redis['sendCommand']>) {
    const command = args[0];
    if (counted.on) counted.connections.push(this);
    if (counted.on && command.args.some((arg) => String(arg).includes('"stage"'))) {
      counted.progress += 1;
    } else if (counted.on) counted.redis.push(command.name);
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
  counted.progress = 0;
  counted.on = true;
  try {
    return await harness.runtime.processSync(job, token);
  } finally {
    counted.on = false;
  }
}

describe('round trips of one sync', () => {
  it('an unchanged provider: 2 PostgreSQL statements and 4 Redis commands, by 304 or by content hash', async () => {
    const provider = await harness.addProvider({ url: `${site.url}/feed.xml` });
    // First ingest of 100 events: the provider with its run opened (and the fetch state read);
    // the COPY into the session's stage, the transaction merging it (group commit); the run
    // ended with the fetch state saved. The stage is created by a session's first group. The
    // provider's sync claimed, the host lease taken and released, the catalog version bumped and
    // announced, the claim released.
    expect(await sync(provider)).toMatchObject({ upserted: 100 });
    expect(counted.postgres.filter((text) => !text.startsWith('CREATE TEMPORARY'))).toHaveLength(4);
    expect(counted.redis).toHaveLength(6);

    // Unchanged: the provider with its run opened, the run ended; the claim and the host lease.
    expect(await sync(provider)).toMatchObject({ upserted: 0, unchanged: 100 });
    expect(counted.postgres).toHaveLength(2);
    expect(counted.redis).toHaveLength(4);
    expect(counted.progress).toBe(0);

    etags = false;
    expect(await sync(provider)).toMatchObject({ upserted: 0, unchanged: 100 });
    expect(counted.postgres).toHaveLength(2);
    expect(counted.redis).toHaveLength(4);
    etags = true;
  });

  it('100 new events for a provider that has 100: 5 PostgreSQL statements and 6 Redis commands', async () => {
    // Without validators: the server's one ETag would answer 304 to the new feed.
    etags = false;
    feed = feverFeed(100);
    const provider = await harness.addProvider({ url: `${site.url}/feed.xml` });
    expect(await sync(provider)).toMatchObject({ upserted: 100 });
    feed = feverFeed(200);
    expect(await sync(provider)).toMatchObject({ upserted: 100, unchanged: 100 });
    // The run opened; the COPY into the stage; one transaction forgetting the applied payload
    // and merging the stage; the 100 unchanged keys marked seen; the run ended with the fetch
    // state.
    expect(counted.postgres.filter((text) => !text.startsWith('CREATE TEMPORARY'))).toHaveLength(5);
    expect(counted.redis).toHaveLength(6);
  });

  it("concurrent syncs' own Redis commands share writes (auto-pipelining)", async () => {
    etags = true;
    feed = feverFeed(10);
    const providers = await Promise.all(
      Array.from({ length: 8 }, (_, n) =>
        harness.addProvider({ url: `${site.url}/feed-${n}.xml` }),
      ),
    );
    const jobs = [];
    for (const provider of providers) jobs.push(await harness.takeJob(provider));
    const connection = harness.runtime.commandsRedis;
    const writes = jest.spyOn(connection.stream, 'write');
    let payloads: string[] = [];
    counted.connections = [];
    counted.on = true;
    try {
      const results = await Promise.all(
        jobs.map(({ job, token }) => harness.runtime.processSync(job, token)),
      );
      expect(results.map((result) => result.upserted)).toEqual(Array(8).fill(10));
    } finally {
      counted.on = false;
      payloads = writes.mock.calls.map(([data]) => String(data));
      writes.mockRestore();
    }
    const sent = counted.connections.filter((sender) => sender === connection).length;
    // Each sync claims its provider, takes and gives back its host lease, releases its claim
    // (4 commands each), in fewer writes than commands.
    expect(sent).toBeGreaterThanOrEqual(8 * 4);
    expect(payloads.length).toBeLessThan(sent);
    // The 8 syncs started in one turn claim their providers in that turn: one write carries all
    // 8 claims (without auto-pipelining, each claim is a write of its own).
    const claims = (payload: string) => payload.split(':ingest:sync-owner:').length - 1;
    expect(claims(payloads[0] ?? '')).toBe(8);
  });
});
