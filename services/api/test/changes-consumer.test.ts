// docs/examples/changes-consumer.mjs as a user runs it: it mirrors the catalog into a JSON file
// from /v1/changes, resumes from the file, and as a webhook endpoint accepts only signed messages.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, freePort, runNode, startNode, type LongRunning } from '@marquee/testing';
import { newWebhookSecret, signedHeaders } from '@marquee/webhooks';
import { createProvider, json, record, startApi, type ApiFixture } from './api.fixture.ts';

const EXAMPLE = 'docs/examples/changes-consumer.mjs';

let api: ApiFixture;
let dir: string;
let env: NodeJS.ProcessEnv;
let server: LongRunning | undefined;

beforeAll(async () => {
  api = await startApi('consumer', {
    access: { publicQuotaPerMinute: 10_000, keyQuotaPerMinute: 100_000 },
  });
  dir = await mkdtemp(join(tmpdir(), 'marquee-consumer-'));
  const { key } = await api.keys.create('consumer', null);
  env = { PATH: process.env.PATH, MARQUEE_URL: api.url, MARQUEE_KEY: key };
  env.COPY_FILE = join(dir, 'catalog.json');
});

afterAll(async () => {
  await server?.stop();
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

/** The catalog as `/v1/events/{id}` answers it, by id. */
async function catalog(): Promise<Record<string, unknown>> {
  const rows = await api.db.$queryRaw<{ id: string }[]>`
    SELECT id::text FROM events WHERE ever_online`;
  const entries = await Promise.all(
    rows.map(async ({ id }) => [id, (await json(await api.get(`/v1/events/${id}`))).data]),
  );
  return Object.fromEntries(
    entries.map(([id, data]) => [id, (data as { event: unknown }).event]),
  ) as Record<string, unknown>;
}

/** Events by id as one text: the copy and the catalog come from different realms (jest's vm). */
const byId = (events: Record<string, unknown>) =>
  JSON.stringify(
    Object.keys(events)
      .sort()
      .map((id) => [id, events[id]]),
  );

async function copied(): Promise<Record<string, unknown>> {
  const text = await readFile(env.COPY_FILE!, 'utf8').catch(() => '{"events":{}}');
  return (JSON.parse(text) as { events: Record<string, unknown> }).events;
}

describe('the consumer example', () => {
  it('mirrors the catalog and resumes from its file', async () => {
    const a = await createProvider(api, 'consumer-a');
    const b = await createProvider(api, 'consumer-b');
    await api.events.upsertMany(
      a,
      [record({ externalKey: '1' }), record({ externalKey: '2' })],
      new Date(),
    );
    await api.events.upsertMany(b, [record({ externalKey: '3' })], new Date());
    const first = await runNode([EXAMPLE], env);
    expect(first.code).toBe(0);

    await api.events.upsertMany(a, [record({ externalKey: '1', title: 'Renamed' })], new Date());
    await api.db.provider.delete({ where: { id: b.id } });
    // A change is readable once older writers of the server ended: run it until it caught up.
    const expected = await catalog();
    await eventually(
      async () => {
        expect((await runNode([EXAMPLE], env)).code).toBe(0);
        const copy = await copied();
        return byId(copy) === byId(expected) ? copy : undefined;
      },
      30_000,
      'the copy to equal the catalog',
    );
    expect(Object.keys(await copied()).sort()).toEqual(Object.keys(expected).sort());
  }, 60_000);

  it('accepts only signed webhooks and reads the feed on each', async () => {
    const secret = newWebhookSecret();
    const port = await freePort();
    server = startNode([EXAMPLE], { ...env, WEBHOOK_SECRET: secret, PORT: String(port) });
    await eventually(
      () => Promise.resolve(server?.output().includes('listening') ? true : undefined),
      20_000,
      'listening',
    );
    const url = `http://127.0.0.1:${port}/`;
    const body = JSON.stringify({
      type: 'event.created',
      timestamp: new Date().toISOString(),
      data: {},
    });
    const unsigned = await fetch(url, { method: 'POST', body });
    expect(unsigned.status).toBe(401);
    const forged = signedHeaders(newWebhookSecret(), 'msg_forged', body);
    expect((await fetch(url, { method: 'POST', body, headers: forged })).status).toBe(401);

    const c = await createProvider(api, 'consumer-c');
    await api.events.upsertMany(c, [record({ externalKey: 'new', title: 'Pushed' })], new Date());
    // A change is readable once older writers of the shared server ended (docs/changes.md); the
    // dispatcher sends a webhook for a change it read from the feed, so this one waits too.
    const { cursor } = JSON.parse(await readFile(env.COPY_FILE!, 'utf8')) as { cursor: string };
    await eventually(
      async () => {
        const feed = await json<{ changes: { event: { title: string } | null }[] }>(
          await api.get(`/v1/changes?after=${cursor}&limit=500`, { 'X-API-Key': env.MARQUEE_KEY! }),
        );
        return feed.data?.changes.some((change) => change.event?.title === 'Pushed') || undefined;
      },
      30_000,
      'the pushed event readable in the feed',
    );
    const signed = signedHeaders(secret, 'msg_signed', body);
    expect((await fetch(url, { method: 'POST', body, headers: signed })).status).toBe(204);
    await eventually(
      async () => {
        const titles = Object.values(await copied()).map((e) => (e as { title: string }).title);
        return titles.includes('Pushed') ? titles : undefined;
      },
      30_000,
      'the pushed event in the copy',
    );
  }, 60_000);
});
