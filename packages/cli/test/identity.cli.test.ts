// `marquee providers test` with dedupeKey and priceLocale, as a separate process against a local
// API: each item without a code (or with an unreadable price) is listed with its reason and kept;
// a config naming a key the kind does not know is refused (exit 2), naming the key.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runTs, startFeedServer, type FeedServer } from '@marquee/testing';

let server: FeedServer;
let dir: string;
const env = { ...process.env, ALLOW_PRIVATE_PROVIDERS: 'true', LOG_LEVEL: 'error' };
const marquee = (...args: string[]) => runTs('packages/cli/src/main.ts', args, env);

const RELEASES = {
  items: [
    {
      id: 'r1',
      name: 'Rosalía',
      date: '2026-07-04T21:00:00+02:00',
      isrc: 'ES-A01-24-00001',
      price: '1.250,00 €',
    },
    {
      id: 'r2',
      name: 'Bad Gyal',
      date: '2026-07-05T21:00:00+02:00',
      price: 'Anticipada 12€ / Taquilla 15€',
    },
    {
      id: 'r3',
      name: 'Zahara',
      date: '2026-07-06T21:00:00+02:00',
      isrc: 'ESA012400003',
      price: 'Consultar',
    },
  ],
};

function writeConfig(name: string, config: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

const test = (config: string, ...extra: string[]) =>
  marquee(
    'providers',
    'test',
    '--kind',
    'json-api',
    '--url',
    `${server.url}/releases`,
    '--config',
    config,
    ...extra,
  );

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'marquee-cli-identity-'));
  server = await startFeedServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(RELEASES));
  });
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('marquee providers test with dedupeKey', () => {
  const config = () =>
    writeConfig('releases.json', {
      items: 'items',
      fields: { id: 'id', title: 'name', start: 'date', minPrice: 'price' },
      dedupeKey: 'isrc',
      priceLocale: 'es',
    });

  it('lists every item without a code or a price with its reason, and keeps it', async () => {
    const result = await test(config());
    expect(result.code).toBe(0);
    expect(result.stderr.trim().split('\n')).toEqual([
      'warning r2: dedupeKey path "isrc" absent: matched by title, venue and start',
      'warning r3: price "Consultar": no amount',
    ]);
    expect(result.stdout).toContain('3 event(s), 0 rejected, 3 item(s) in the payload');
    expect(result.stdout).toMatch(/r1 +Rosalía .* 1250\.00 +1250\.00/);
    expect(result.stdout).toMatch(/r2 +Bad Gyal .* 12\.00 +15\.00/);
  });

  it('--json carries the normalized code and the currency the price names', async () => {
    const result = await test(config(), '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject([
      { externalKey: 'r1', dedupeKey: 'ESA012400001', minPrice: '1250.00', currency: 'EUR' },
      { externalKey: 'r2', minPrice: '12.00', maxPrice: '15.00', currency: 'EUR' },
      { externalKey: 'r3', dedupeKey: 'ESA012400003', minPrice: null },
    ]);
  });

  it('a config with an unknown key is refused with exit 2, naming the key', async () => {
    const bad = writeConfig('typo.json', {
      items: 'items',
      fields: { title: 'name', start: 'date' },
      dedupekey: 'isrc',
    });
    const hits = server.hits.get('/releases') ?? 0;
    const result = await test(bad);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unrecognized key: "dedupekey"');
    expect(server.hits.get('/releases') ?? 0).toBe(hits);
  });
});
