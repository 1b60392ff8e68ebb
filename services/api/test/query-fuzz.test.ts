import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
// rng: a seeded PRNG, so a failure replays with the same seed.
import { rng } from '../../../bench/feed.generator.ts';
import { eventsSearchQuerySchema } from '../src/search-query.schema.ts';
import { seedProvider, startApi, type ApiFixture } from './api.fixture.ts';

/** Every parameter the search endpoints read, and names no endpoint knows. */
const NAMES = [
  ...Object.keys(eventsSearchQuerySchema.shape),
  ...['x', '__proto__', 'constructor', '', 'a[b]'],
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
  await seedProvider(api, 'fuzz', 30, 'f');
});

afterAll(async () => {
  await api.close();
});

describe('query parameter fuzzing', () => {
  it('never answers 500 (nor anything but the JSON envelope) to 400 random queries', async () => {
    const next = rng(20261127);
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

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The connection was reset before the answer was complete. */
  reset: boolean;
}

/** Sends `head` (and `body`) as bytes on a fresh connection; resolves with what came back. */
function sendRaw(url: string, head: string, body = ''): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let reset = false;
    const socket = connect(Number(port), hostname, () => {
      // A write refused by a socket the server closed shows up as the reset below.
      socket.write(head + body, () => undefined);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {
      reset = true;
    });
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const [top = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = top.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((line) => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
        }),
      );
      resolve({
        status: Number(statusLine.split(' ')[1]),
        headers,
        body: rest.join('\r\n\r\n'),
        reset,
      });
    });
  });
}

function envelopeCode(body: string): string | undefined {
  const parsed = JSON.parse(body) as { data: unknown; error: { code?: unknown } | null };
  expect(parsed.data).toBeNull();
  return typeof parsed.error?.code === 'string' ? parsed.error.code : undefined;
}

describe('hostile inputs that once answered 500 or a bare status', () => {
  const CONTROLS = ['%00', '%01', '%0A', '%1B', '%7F', '%C2%85', 'a%00b'];

  it.each(['q', 'provider', 'city', 'country', 'performer'])(
    'refuses control characters in %s with the 400 envelope',
    async (name) => {
      for (const control of CONTROLS) {
        const response = await fetch(`${api.url}/v1/events/search?${name}=${control}`);
        expect({ control, status: response.status }).toEqual({ control, status: 400 });
        expect(envelopeCode(await response.text())).toBe('invalid_parameter');
      }
    },
  );

  it('refuses control characters in the /search window with the 400 envelope', async () => {
    for (const query of ['starts_at=%00', 'ends_at=2021-01-01%00', 'starts_at=%1B']) {
      const response = await fetch(`${api.url}/search?${query}`);
      expect({ query, status: response.status }).toEqual({ query, status: 400 });
      expect(envelopeCode(await response.text())).toBe('invalid_parameter');
    }
  });

  it('answers an over-long query string with the 414 envelope, never a reset or a bare status', async () => {
    // 3 KB passes Node's parser and meets the API's own limit; the others overflow the parser.
    for (const bytes of [3_000, 20_000, 200_000, 2_000_000]) {
      const response = await fetch(`${api.url}/v1/events/search?q=${'x'.repeat(bytes)}`);
      expect({ bytes, status: response.status }).toEqual({ bytes, status: 414 });
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(envelopeCode(await response.text())).toBe('query_too_long');
    }
    const raw = await sendRaw(
      api.url,
      `GET /search?q=${'x'.repeat(3_000_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    expect({ status: raw.status, reset: raw.reset }).toEqual({ status: 414, reset: false });
    expect(envelopeCode(raw.body)).toBe('query_too_long');
  });

  it('answers over-long headers with the 431 envelope', async () => {
    const raw = await sendRaw(
      api.url,
      `GET /search HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(40_000)}\r\n\r\n`,
    );
    expect({ status: raw.status, reset: raw.reset }).toEqual({ status: 431, reset: false });
    expect(envelopeCode(raw.body)).toBe('headers_too_large');
  });

  it('answers every method but GET and HEAD with the 405 envelope and Allow', async () => {
    const methods = ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND', 'FOO', 'BREW'];
    for (const method of [...methods, 'CONNECT']) {
      const target = method === 'CONNECT' ? '127.0.0.1:5432' : '/v1/events/search';
      const raw = await sendRaw(
        api.url,
        `${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      expect({ method, status: raw.status }).toEqual({ method, status: 405 });
      expect(raw.headers.allow).toBe('GET, HEAD');
      expect(envelopeCode(raw.body)).toBe('method_not_allowed');
    }
  });

  it('answers a request Node cannot parse with the 400 envelope', async () => {
    for (const head of [
      'GET /se arch HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /search?q=\u0000 HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /search HTTP/9.9\r\nHost: x\r\n\r\n',
    ]) {
      const raw = await sendRaw(api.url, head);
      expect({ head, status: raw.status }).toEqual({ head, status: 400 });
      expect(envelopeCode(raw.body)).toBe('bad_request');
    }
  });
});
