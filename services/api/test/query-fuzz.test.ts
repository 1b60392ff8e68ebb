import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createProvider, record, startApi, type ApiFixture } from './api.fixture.ts';

/** Deterministic PRNG (mulberry32): a failure replays with the same seed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = [
  'starts_at',
  'ends_at',
  'overlap',
  'provider',
  'q',
  'city',
  'country',
  'status',
  'min_price',
  'max_price',
  'limit',
  'cursor',
  'x',
  '__proto__',
  'constructor',
  '',
  'a[b]',
];

const PATHS = ['/search', '/v1/events/search', '/v1/events/', '/v1/providers', '/healthz', '/nope'];

function value(next: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  switch (Math.floor(next() * 10)) {
    case 0:
      return pick([
        '2021-02-30',
        '0000-01-01',
        '9999-12-31T23:59:59Z',
        '2021-02-01T25:00:00Z',
        '-1',
      ]);
    case 1:
      return String(pick([0, -1, 1e308, Number.MAX_SAFE_INTEGER, 1001, 3.5]));
    case 2:
      return pick(['NaN', 'Infinity', 'null', 'true', '[]', '{}', '%', '%%', '%zz', '\\']);
    case 3:
      return 'x'.repeat(Math.floor(next() * 3000));
    case 4:
      return pick([
        '😀',
        '\u0000',
        '\u202e',
        'é',
        '\ud800',
        'Ω≈ç√',
        '\r\n',
        '<script>',
        "' OR 1=1 --",
      ]);
    case 5:
      return Buffer.from(Array.from({ length: 40 }, () => Math.floor(next() * 256))).toString(
        'base64url',
      );
    case 6:
      return Array.from({ length: Math.floor(next() * 30) }, () =>
        String.fromCodePoint(Math.floor(next() * 0x2ffff)),
      ).join('');
    default:
      return pick(['2021-06-01', '2021-06-01T00:00:00+02:00', '10', '50.5', 'scheduled', 'a']);
  }
}

/** Percent-encodes most of the time, but sometimes sends raw (possibly invalid) escapes. */
function encode(text: string, next: () => number): string {
  if (next() < 0.8) return encodeURIComponent(text.replace(/[\ud800-\udfff]/g, '?'));
  return text.replace(/[^\x21-\x7e]/g, (char) =>
    encodeURIComponent(char.replace(/[\ud800-\udfff]/g, '?')),
  );
}

let api: ApiFixture;

beforeAll(async () => {
  api = await startApi('fuzz', { access: { publicQuotaPerMinute: 100_000, keyQuotaPerMinute: 1 } });
  const provider = await createProvider(api, 'fuzz');
  await api.events.upsertMany(
    provider,
    Array.from({ length: 30 }, (_, index) => record({ externalKey: `f${index}` })),
    new Date(),
  );
});

afterAll(async () => {
  await api.close();
});

describe('query parameter fuzzing', () => {
  it('never answers 500 (nor anything but the JSON envelope) to 400 random queries', async () => {
    const next = random(20261127);
    const failures: string[] = [];
    const statuses = new Set<number>();
    for (let request = 0; request < 400; request += 1) {
      const count = Math.floor(next() * 6);
      const query = Array.from({ length: count }, () => {
        const name = NAMES[Math.floor(next() * NAMES.length)]!;
        return `${encode(name, next)}=${encode(value(next), next)}`;
      }).join('&');
      let path = PATHS[Math.floor(next() * PATHS.length)]!;
      if (path === '/v1/events/') path += encode(value(next), next).slice(0, 200);
      const url = `${path}${query ? `?${query}` : ''}`;
      const response = await fetch(`${api.url}${url}`);
      const text = await response.text();
      statuses.add(response.status);
      if (response.status >= 500) failures.push(`${response.status} ${url.slice(0, 300)}`);
      else if (response.status >= 400) {
        const body = JSON.parse(text) as { data: unknown; error: { code: string } | null };
        if (body.data !== null || typeof body.error?.code !== 'string')
          failures.push(`shape ${url}`);
      }
    }
    expect(failures).toEqual([]);
    // The inputs reach past validation too, not only into 400s.
    expect([...statuses].sort()).toEqual(expect.arrayContaining([200, 400, 401, 404]));
  });
});
