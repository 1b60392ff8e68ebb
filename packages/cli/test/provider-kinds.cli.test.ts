// `marquee providers test` with the new kinds, run as users run it (the bin and its bundle)
// against a local site and API.
import { describe, expect, it } from '@jest/globals';
import { providersTest, useCliStack } from './cli.harness.ts';

const page = `<html><head><script type="application/ld+json">[
  {"@type": "MusicEvent", "name": "Night &amp; Day", "url": "/e/1", "startDate": "2026-09-01T21:00:00+0200",
   "location": {"@type": "Place", "name": "Sala Sol", "address": {"addressLocality": "Madrid", "addressCountry": "ES"}},
   "performer": [{"@type": "MusicGroup", "name": "Band A"}, {"@type": "MusicGroup", "name": "Band B"}],
   "offers": {"@type": "AggregateOffer", "lowPrice": "12", "highPrice": "30", "priceCurrency": "EUR"},},
  {"@type": "Event", "name": "Placeholder", "url": "/e/2", "startDate": "0001-01-01"}
]</script></head><body></body></html>`;

const stack = useCliStack({
  label: 'cli-kinds',
  database: false,
  env: { MARQUEE_CLI_TEST_TOKEN: 'cli-secret-7' },
  feed: (request, response) => {
    if (request.url === '/api/events') {
      if (request.headers.authorization !== 'Token cli-secret-7') {
        response.writeHead(401).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ results: [{ uid: 'x1', label: 'API Show', at: '2026-10-01' }] }),
      );
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html' }).end(page);
  },
});

/** `providers test` of the json-api kind on the stand-in's API with this config. */
const testApi = (config: unknown, ...options: string[]) => {
  const file = stack.jsonFile('api.json', config);
  const url = `${stack.feed.url}/api/events`;
  return stack.bin(...providersTest('json-api', url, '--config', file, ...options));
};

describe('marquee providers test with the new kinds', () => {
  it('jsonld-html --json prints normalized events with the new fields and the rejects', async () => {
    const result = await stack.bin(
      ...providersTest('jsonld-html', `${stack.feed.url}/venue`, '--json'),
    );
    expect(result.code).toBe(0);
    const events = JSON.parse(result.stdout) as Record<string, unknown>[];
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      title: 'Night & Day',
      startsAt: '2026-09-01T19:00:00.000Z',
      url: `${stack.feed.url}/e/1`,
      minPrice: '12.00',
      maxPrice: '30.00',
      currency: 'EUR',
      performers: ['Band A', 'Band B'],
      venue: { name: 'Sala Sol', city: 'Madrid', country: 'ES' },
    });
    expect(result.stderr).toContain('placeholder date "0001-01-01"');
  });

  it('json-api with the secret from the env var named in --config', async () => {
    const config = {
      items: 'results',
      fields: { id: 'uid', title: 'label', start: 'at' },
      auth: { name: 'Authorization', prefix: 'Token ', env: 'MARQUEE_CLI_TEST_TOKEN' },
    };
    const result = await testApi(config, '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject([
      { externalKey: 'x1', title: 'API Show', allDay: true },
    ]);
  });

  it('a bad --config is refused with exit 2 and a message naming the field', async () => {
    const result = await testApi({
      items: 'results',
      fields: { id: 'uid', start: 'at' },
      auth: { name: 'Authorization', env: 'cli-secret-7' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('fields.title: required');
    expect(result.stderr).toContain('auth.env: must be the NAME of an environment variable');
    expect(result.stderr).not.toContain('cli-secret-7');
    expect(stack.feed.hits.get('/api/events') ?? 0).toBe(1); // only the good run above fetched
  });
});
