import { once } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import {
  createServer as createTcpServer,
  type AddressInfo,
  type Server as TcpServer,
  type Socket,
} from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from '@jest/globals';
import { feedServersPerTest, type FeedHandler } from '@marquee/testing';
import {
  BudgetWaitError,
  fetchPayload,
  FetchError,
  parseRetryAfter,
  type FetchOptions,
} from '../src/index.ts';

const serveFeed = feedServersPerTest(afterEach);

/** A real HTTP server on 127.0.0.1 and an ephemeral port; closed after each test. */
const serve = async (handler: FeedHandler): Promise<string> => (await serveFeed(handler)).url;

const rawServers: TcpServer[] = [];

afterEach(async () => {
  await Promise.all(
    rawServers
      .splice(0)
      .map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
});

/**
 * A raw TCP server that answers each request with whatever `respond` writes: responses Node's own
 * HTTP server would refuse to send (a body longer or shorter than its Content-Length).
 */
async function serveRaw(respond: (socket: Socket) => void): Promise<string> {
  const server = createTcpServer((socket) => socket.once('data', () => respond(socket)));
  rawServers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const options: FetchOptions = {
  timeoutMs: 5_000,
  maxBytes: 1_000_000,
  userAgent: 'marquee-test/1.0',
  // The servers here are on loopback; address.guard.test.ts covers the refusals.
  addressPolicy: { allowPrivate: true },
};

async function fetchError(url: string, over: Partial<FetchOptions> = {}): Promise<FetchError> {
  const error = await fetchPayload(url, { ...options, ...over }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(FetchError);
  return error as FetchError;
}

describe('fetchPayload', () => {
  it('returns a 200 body with headers, sending the user agent and extra headers', async () => {
    let seen: IncomingHttpHeaders = {};
    const url = await serve((req, res) => {
      seen = req.headers;
      res.writeHead(200, { 'content-type': 'application/xml', etag: '"v1"' });
      res.end('<eventList><output/></eventList>');
    });
    const payload = await fetchPayload(`${url}/feed`, {
      ...options,
      headers: { 'If-None-Match': '"v0"' },
    });
    expect(payload.status).toBe(200);
    expect(payload.body.toString()).toBe('<eventList><output/></eventList>');
    expect(payload.headers).toMatchObject({ 'content-type': 'application/xml', etag: '"v1"' });
    expect(payload.url).toBe(`${url}/feed`);
    expect(seen).toMatchObject({ 'user-agent': 'marquee-test/1.0', 'if-none-match': '"v0"' });
  });

  it('sends a User-Agent named in the headers as given, in place of the default (whatever its case)', async () => {
    const seen: (string | undefined)[] = [];
    const url = await serve((req, res) => {
      seen.push(req.headers['user-agent']);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('[]');
    });
    const discogs = 'MarqueeDiscogsClient/1.0 +https://marquee.example';
    await fetchPayload(url, { ...options, headers: { 'User-Agent': discogs } });
    await fetchPayload(url, { ...options, headers: { 'user-agent': 'lower/2.0' } });
    await fetchPayload(url, options);
    expect(seen).toEqual([discogs, 'lower/2.0', 'marquee-test/1.0']);
  });

  it('returns 304 as a status with an empty body, not an error', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(304, { etag: '"v1"' });
      res.end();
    });
    const payload = await fetchPayload(url, options);
    expect(payload.status).toBe(304);
    expect(payload.body).toHaveLength(0);
  });

  it('follows a few redirects and reports the final URL', async () => {
    const url = await serve((req, res) => {
      if (req.url === '/a') res.writeHead(301, { location: '/b' }).end();
      else if (req.url === '/b') res.writeHead(302, { location: '/c' }).end();
      else res.writeHead(200).end(`at ${req.url}`);
    });
    const payload = await fetchPayload(`${url}/a`, options);
    expect(payload.body.toString()).toBe('at /c');
    expect(payload.url).toBe(`${url}/c`);
  });

  it('decompresses a gzip body', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip' });
      res.end(gzipSync('hello '.repeat(1000)));
    });
    expect((await fetchPayload(url, options)).body.toString()).toBe('hello '.repeat(1000));
  });

  it('aborts a body over the cap as soon as it crosses it, closing the connection', async () => {
    const total = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    let closedEarly: Promise<boolean> = Promise.resolve(false);
    const url = await serve((_req, res) => {
      const closed = once(res, 'close').then(() => !res.writableFinished);
      closedEarly = closed;
      res.writeHead(200, { 'content-type': 'application/xml' });
      void (async () => {
        let open = true;
        void closed.then(() => (open = false));
        while (open && sent < total) {
          sent += chunk.length;
          if (!res.write(chunk)) await Promise.race([once(res, 'drain'), closed]);
        }
        if (open) res.end();
      })();
    });
    const error = await fetchError(url, { maxBytes: 100_000 });
    expect(error.classification).toBe('permanent');
    expect(error.message).toMatch(/exceeds the limit of 100000 bytes/);
    expect(await closedEarly).toBe(true);
    expect(sent).toBeLessThan(total);
  });

  it('refuses a declared Content-Length over the cap before reading the body', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(50_000_000) });
      res.write('x');
    });
    const error = await fetchError(url, { maxBytes: 1_000 });
    expect(error.classification).toBe('permanent');
    expect(error.message).toMatch(/limit of 1000 bytes \(Content-Length 50000000\)/);
  });

  it.each([
    ['with a Content-Length', true],
    ['chunked', false],
  ])(
    "overflow 'truncate': a body over the cap (%s) ends there with its first bytes",
    async (_label, announced) => {
      const total = 64 * 1024 * 1024;
      const chunk = Buffer.alloc(64 * 1024, 'y');
      let sent = 0;
      const url = await serve((_req, res) => {
        res.writeHead(200, announced ? { 'content-length': String(total) } : {});
        void (async () => {
          let open = true;
          void once(res, 'close').then(() => (open = false));
          res.write('head');
          while (open && sent < total - 4) {
            sent += chunk.length;
            if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
          }
          if (open) res.end();
        })();
      });
      const payload = await fetchPayload(url, {
        ...options,
        maxBytes: 100_000,
        overflow: 'truncate',
      });
      expect(payload).toMatchObject({ status: 200, truncated: true });
      expect(payload.body.length).toBe(100_000);
      expect(payload.body.subarray(0, 6).toString()).toBe('headyy');
      expect(sent).toBeLessThan(total / 2);
    },
  );

  it("overflow 'truncate': a body within the cap is returned whole, not marked", async () => {
    const url = await serve((_req, res) => res.end('small'));
    const payload = await fetchPayload(url, { ...options, maxBytes: 5, overflow: 'truncate' });
    expect(payload.body.toString()).toBe('small');
    expect(payload.truncated).toBeUndefined();
  });

  it('asks the payload budget for a Content-Length before reading the body; refused, it stops with BudgetWaitError', async () => {
    const url = await serve((_req, res) => res.end(Buffer.alloc(300_000, 'z')));
    const asked: number[] = [];
    const refused = await fetchError(url, {
      reserve: (bytes) => (asked.push(bytes), false),
    });
    expect(refused).toBeInstanceOf(BudgetWaitError);
    expect(refused).toMatchObject({ bytes: 300_000 });
    expect(asked).toEqual([300_000]);
    const payload = await fetchPayload(url, { ...options, reserve: () => true });
    expect(payload.body.length).toBe(300_000);
  });

  it('asks for a body of unknown length in growing steps as it arrives', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      for (let i = 0; i < 40; i++) res.write(Buffer.alloc(512 * 1024, 'c'));
      res.end();
    });
    const asked: number[] = [];
    const payload = await fetchPayload(url, {
      ...options,
      maxBytes: 64 * 1024 * 1024,
      reserve: (bytes) => (asked.push(bytes), true),
    });
    expect(payload.body.length).toBe(20 * 1024 * 1024);
    expect(asked).toEqual([8, 16, 32].map((mb) => mb * 1024 * 1024));
  });

  it('applies the cap to the decompressed size (a small gzip bomb)', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip' });
      res.end(gzipSync(Buffer.alloc(5_000_000)));
    });
    const error = await fetchError(url, { maxBytes: 100_000 });
    expect(error).toMatchObject({ classification: 'permanent' });
  });

  it('times out a server that never answers as transient', async () => {
    const url = await serve(() => undefined);
    const error = await fetchError(url, { timeoutMs: 200 });
    expect(error.classification).toBe('transient');
    // The configured deadline ended it: the server never answers.
    expect(error.message).toMatch(/timed out after 200 ms/);
  });

  it('times out the whole request, including a body that stalls', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200);
      res.write('<eventList>');
    });
    const error = await fetchError(url, { timeoutMs: 300 });
    expect(error.classification).toBe('transient');
  });

  it.each([
    [500, 'transient', 'HTTP 500 Internal Server Error'],
    [502, 'transient', undefined],
    [503, 'transient', undefined],
    [404, 'permanent', 'HTTP 404 Not Found'],
    [401, 'permanent', undefined],
    [418, 'permanent', undefined],
  ])(
    'classifies HTTP %i as %s (5xx transient, other 4xx permanent)',
    async (status, classification, message) => {
      const url = await serve((_req, res) => res.writeHead(status).end('nope'));
      expect(await fetchError(url)).toMatchObject({
        classification,
        status,
        ...(message !== undefined && { message }),
      });
    },
  );

  it('classifies 429 as rate-limited, with Retry-After seconds when given', async () => {
    const url = await serve((req, res) => {
      res.writeHead(429, req.url === '/with' ? { 'retry-after': '7' } : {});
      res.end();
    });
    const withDelay = await fetchError(`${url}/with`);
    expect(withDelay).toMatchObject({
      classification: 'rate-limited',
      status: 429,
      retryAfterMs: 7000,
    });
    const without = await fetchError(`${url}/without`);
    expect(without).toMatchObject({ classification: 'rate-limited', status: 429 });
    expect(without.retryAfterMs).toBeUndefined();
  });

  it('classifies 503 with an HTTP-date Retry-After as rate-limited', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(503, { 'retry-after': new Date(Date.now() + 30_000).toUTCString() });
      res.end();
    });
    const error = await fetchError(url);
    expect(error).toMatchObject({ classification: 'rate-limited', status: 503 });
    // HTTP dates have whole seconds: between 29 and 30 s from now, minus the round trip.
    expect(error.retryAfterMs).toBeGreaterThan(27_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('classifies a redirect loop as permanent', async () => {
    let hops = 0;
    const url = await serve((_req, res) => {
      hops += 1;
      res.writeHead(302, { location: '/loop' }).end();
    });
    const error = await fetchError(`${url}/loop`);
    expect(error.classification).toBe('permanent');
    expect(error.message).toMatch(/too many redirects/);
    expect(hops).toBe(6);
  });

  it('classifies a refused connection as transient', async () => {
    const server = await serveFeed(() => undefined);
    await server.close();
    const error = await fetchError(server.url);
    expect(error.classification).toBe('transient');
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  it('classifies a connection reset mid-body as transient', async () => {
    const url = await serve((req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial', () => req.socket.destroy());
    });
    expect(await fetchError(url)).toMatchObject({ classification: 'transient' });
  });

  it('classifies an invalid URL as permanent', async () => {
    expect(await fetchError('not a url')).toMatchObject({ classification: 'permanent' });
    expect(await fetchError('ftp://127.0.0.1/feed')).toMatchObject({ classification: 'permanent' });
  });
});

describe('fetchPayload, a body with a Content-Length', () => {
  it('reads a body sent in many pieces into exactly the announced bytes', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 1) body[i] = (i * 7) % 251;
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(body.length) });
      void (async () => {
        for (let at = 0; at < body.length; at += 100_000) {
          if (!res.write(body.subarray(at, at + 100_000))) await once(res, 'drain');
        }
        res.end();
      })();
    });
    const payload = await fetchPayload(url, { ...options, maxBytes: body.length });
    expect(payload.body.length).toBe(body.length);
    expect(payload.body.equals(body)).toBe(true);
  });

  it('returns an empty body for Content-Length 0', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '0' });
      res.end();
    });
    const payload = await fetchPayload(url, options);
    expect(payload.status).toBe(200);
    expect(payload.body).toHaveLength(0);
  });

  it('fails a body shorter than announced as transient, returning nothing', async () => {
    const url = await serveRaw((socket) =>
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 50\r\nConnection: close\r\n\r\nonly 12 byte'),
    );
    expect(await fetchError(url)).toMatchObject({ classification: 'transient' });
  });

  it('fails a body longer than announced as transient, never returning the extra bytes', async () => {
    const url = await serveRaw((socket) =>
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello and more'),
    );
    expect(await fetchError(url)).toMatchObject({ classification: 'transient' });
  });

  it('ignores the Content-Length of a 304 (it has no body)', async () => {
    const url = await serveRaw((socket) =>
      socket.end('HTTP/1.1 304 Not Modified\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n'),
    );
    const payload = await fetchPayload(url, options);
    expect(payload.status).toBe(304);
    expect(payload.body).toHaveLength(0);
  });

  it('does not size a compressed body from its Content-Length (the compressed size)', async () => {
    const text = 'hello '.repeat(10_000);
    const compressed = gzipSync(text);
    const url = await serve((_req, res) => {
      res.writeHead(200, {
        'content-encoding': 'gzip',
        'content-length': String(compressed.length),
      });
      res.end(compressed);
    });
    const payload = await fetchPayload(url, options);
    expect(payload.body.toString()).toBe(text);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2024-01-01T00:00:00Z');
  it('reads delay-seconds and HTTP dates, ignoring anything else', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Sun, 31 Dec 2023 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('7.5', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
