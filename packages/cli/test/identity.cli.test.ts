// `marquee providers test` with dedupeKey and priceLocale, as users run it (its bin and bundle,
// a separate process) against a local API: each item without a code (or with an unreadable
// price) is listed with its reason and kept; a config naming a key the kind does not know is
// refused (exit 2), naming the key.
import { describe, expect, it } from '@jest/globals';
import { providersTest, useCliStack } from './cli.harness.ts';

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

const stack = useCliStack({
  label: 'cli-identity',
  database: false,
  feed: (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(RELEASES));
  },
});

/** `providers test` of the stand-in's releases with the config in file `name`. */
const test = (name: string, config: unknown, ...options: string[]) => {
  const file = stack.jsonFile(name, config);
  const url = `${stack.feed.url}/releases`;
  return stack.bin(...providersTest('json-api', url, '--config', file, ...options));
};

describe('marquee providers test with dedupeKey', () => {
  const config = {
    items: 'items',
    fields: { id: 'id', title: 'name', start: 'date', minPrice: 'price' },
    dedupeKey: 'isrc',
    priceLocale: 'es',
  };

  it('lists every item without a code or a price with its reason, and keeps it', async () => {
    const result = await test('releases.json', config);
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
    const result = await test('releases.json', config, '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject([
      { externalKey: 'r1', dedupeKey: 'ESA012400001', minPrice: '1250.00', currency: 'EUR' },
      { externalKey: 'r2', minPrice: '12.00', maxPrice: '15.00', currency: 'EUR' },
      { externalKey: 'r3', dedupeKey: 'ESA012400003', minPrice: null },
    ]);
  });

  it('a config with an unknown key is refused with exit 2, naming the key', async () => {
    const hits = stack.feed.hits.get('/releases') ?? 0;
    const result = await test('typo.json', {
      items: 'items',
      fields: { title: 'name', start: 'date' },
      dedupekey: 'isrc',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unrecognized key: "dedupekey"');
    expect(stack.feed.hits.get('/releases') ?? 0).toBe(hits);
  });
});
