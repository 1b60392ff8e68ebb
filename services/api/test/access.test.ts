import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { json, startApi, type ApiFixture } from './api.fixture.ts';

const DEAD_REDIS = 'redis://127.0.0.1:1/0';

describe('API keys', () => {
  let api: ApiFixture;
  const lookups: string[] = [];

  beforeAll(async () => {
    api = await startApi('access-keys', {
      access: {
        publicQuotaPerMinute: 10,
        keyQuotaPerMinute: 1000,
        onLookup: (key) => lookups.push(key),
      },
    });
  });

  afterAll(async () => {
    await api.close();
  });

  it('needs a key for /v1/providers and refuses unknown, malformed and revoked keys', async () => {
    const anonymous = await api.get('/v1/providers');
    expect(anonymous.status).toBe(401);
    expect((await json(anonymous)).error?.code).toBe('api_key_required');

    const { key, info } = await api.keys.create('ops', null);
    expect(key).toMatch(/^mk_[0-9a-f]{12}_[\w-]{24}$/);
    const allowed = await api.get('/v1/providers', { 'X-API-Key': key });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('ratelimit-limit')).toBe('1000');

    for (const wrong of [
      `${key.slice(0, -1)}${key.endsWith('x') ? 'y' : 'x'}`,
      'mk_nope',
      // Same lookup prefix, another secret (the secret itself may contain '_').
      `${key.slice(0, 16)}${key.endsWith('a'.repeat(24)) ? 'b' : 'a'}`.padEnd(key.length, 'a'),
    ]) {
      const refused = await api.get('/v1/providers', { 'X-API-Key': wrong });
      expect({ wrong, status: refused.status }).toEqual({ wrong, status: 401 });
      expect((await json(refused)).error?.code).toBe('invalid_api_key');
    }
    // A wrong key is refused on public endpoints too, so a client notices it.
    expect((await api.get('/search', { 'X-API-Key': 'mk_nope' })).status).toBe(401);

    expect(await api.keys.revoke(info.id)).toBe(true);
    expect((await api.get('/v1/providers', { 'X-API-Key': key })).status).toBe(401);
    // Only the hash is stored.
    const rows = await api.db.$queryRaw<{ key_hash: string }[]>`SELECT key_hash FROM api_keys`;
    expect(rows.every((row) => !row.key_hash.includes(key.slice(-24)))).toBe(true);
  });

  it('counts wrong keys against the IP quota: 401 until it is spent, then 429 without a lookup', async () => {
    const statuses: number[] = [];
    const before = lookups.length;
    for (let attempt = 0; attempt < 8; attempt += 1) {
      const wrong = `mk_${String(attempt).padStart(12, '0')}_made-up-secret-000000000`;
      const response = await api.get('/v1/events/search', { 'X-API-Key': wrong });
      statuses.push(response.status);
      const body = await json(response);
      expect(body.error?.code).toBe(response.status === 429 ? 'rate_limited' : 'invalid_api_key');
      if (response.status === 429) {
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
    }
    // The test above sent 5 wrong keys from this IP; its quota is 10.
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    // Once the IP's wrong keys reach the quota, a made-up key is not even looked up.
    expect(lookups.length - before).toBe(5);
    // They spent the IP's public quota: a request without a key is over it too.
    const anonymous = await api.get('/v1/events/search');
    expect(anonymous.status).toBe(429);
    expect((await json(anonymous)).error?.code).toBe('rate_limited');
  });

  it('still looks up a valid key from an IP whose anonymous quota is spent', async () => {
    const { key } = await api.keys.create('behind-nat', null);
    const fresh = await startApi('access-keys-nat', {
      databaseUrl: api.databaseUrl,
      access: { publicQuotaPerMinute: 2, keyQuotaPerMinute: 1000 },
    });
    try {
      for (const expected of [200, 200, 429])
        expect((await fresh.get('/search')).status).toBe(expected);
      expect((await fresh.get('/search', { 'X-API-Key': key })).status).toBe(200);
    } finally {
      await fresh.close();
    }
  });
});

describe('API keys and quotas', () => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await startApi('access', {
      access: { publicQuotaPerMinute: 5, keyQuotaPerMinute: 1000 },
    });
  });

  afterAll(async () => {
    await api.close();
  });

  it('limits a key to its own quota, with 429, Retry-After and the error envelope', async () => {
    const { key } = await api.keys.create('small', 3);
    for (let request = 0; request < 3; request += 1) {
      const response = await api.get('/search', { 'X-API-Key': key });
      expect(response.status).toBe(200);
      expect(response.headers.get('ratelimit-remaining')).toBe(String(2 - request));
    }
    const over = await api.get('/search', { 'X-API-Key': key });
    expect(over.status).toBe(429);
    const retryAfter = Number(over.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await json(over)).toEqual({
      data: null,
      error: { code: 'rate_limited', message: 'over the quota of 3 requests per minute' },
    });
    // Another key has its own budget.
    const { key: other } = await api.keys.create('other', 3);
    expect((await api.get('/search', { 'X-API-Key': other })).status).toBe(200);
  });

  it('limits requests without a key per IP, and never limits the health endpoints', async () => {
    const statuses: number[] = [];
    for (let request = 0; request < 7; request += 1) {
      const response = await api.get('/v1/events/search');
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect((await api.get('/healthz')).status).toBe(200);
    expect((await api.get('/openapi.json')).status).toBe(200);
  });

  it('holds the quota across replicas sharing Redis', async () => {
    const replica = await startApi('access-replica', {
      prefix: api.prefix,
      access: { publicQuotaPerMinute: 5, keyQuotaPerMinute: 1000 },
    });
    try {
      // The first fixture's IP budget is spent: the replica sees the same count.
      expect((await replica.get('/search')).status).toBe(429);
    } finally {
      await replica.close();
    }
  });
});

describe('with Redis down', () => {
  it('lets requests through (fail open) and logs a warning', async () => {
    const api = await startApi('access-no-redis', {
      redisUrl: DEAD_REDIS,
      access: { publicQuotaPerMinute: 1, keyQuotaPerMinute: 1 },
    });
    try {
      for (let request = 0; request < 3; request += 1) {
        expect((await api.get('/search')).status).toBe(200);
      }
      expect(
        api
          .logs()
          .some((line) => line.level === 'warn' && String(line.message).includes('rate limiter')),
      ).toBe(true);
    } finally {
      await api.close();
    }
  });
});

describe('HTTP hardening', () => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await startApi('hardening', { app: { corsOrigins: ['https://app.example'] } });
  });

  afterAll(async () => {
    await api.close();
  });

  it('sends helmet headers', async () => {
    const response = await api.get('/search');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('x-powered-by')).toBeNull();
  });

  it('allows the configured origins only', async () => {
    const allowed = await api.get('/search', { Origin: 'https://app.example' });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await api.get('/search', { Origin: 'https://evil.example' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${api.url}/v1/events/search`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
  });

  it('refuses too many parameters, long queries and request bodies', async () => {
    const many = Array.from({ length: 21 }, (_, index) => `p${index}=1`).join('&');
    const tooMany = await api.get(`/search?${many}`);
    expect(tooMany.status).toBe(400);
    expect((await json(tooMany)).error?.code).toBe('too_many_parameters');
    expect((await api.get(`/search?${many.split('&').slice(0, 20).join('&')}`)).status).toBe(200);

    const long = await api.get(`/search?x=${'a'.repeat(2100)}`);
    expect(long.status).toBe(414);
    expect((await json(long)).error?.code).toBe('query_too_long');

    const body = await new Promise<number>((resolve, reject) => {
      const headers = { 'Content-Length': '10' };
      const req = request(`${api.url}/search`, { method: 'GET', headers }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end('x'.repeat(10));
    });
    expect(body).toBe(413);
  });
});
