// Issue 12, item 6: a provider's configured `headers` may set User-Agent (Discogs requires an
// app-specific one); `providers test` sends it as given to a real server, and Marquee's own
// otherwise.
import { expect, it } from '@jest/globals';
import { providersTest, useCliStack } from './cli.harness.ts';

const agents: (string | undefined)[] = [];
const stack = useCliStack({
  label: 'cli-headers',
  database: false,
  feed: (request, response) => {
    agents.push(request.headers['user-agent']);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({ results: [{ id: 1, title: 'Live', date: '2030-05-01T20:00:00Z' }] }),
    );
  },
});

async function providersTestCode(config: unknown): Promise<number> {
  const file = stack.jsonFile(`config-${agents.length}.json`, config);
  const test = providersTest('json-api', `${stack.feed.url}/search`, '--config', file, '--json');
  return (await stack.marquee(...test)).code;
}

const mapping = { items: 'results', fields: { id: 'id', title: 'title', start: 'date' } };

it('sends the configured User-Agent as given, and the default without one', async () => {
  const discogs = 'MarqueeDiscogs/1.0 +https://marquee.example/contact';
  expect(await providersTestCode({ ...mapping, headers: { 'User-Agent': discogs } })).toBe(0);
  expect(await providersTestCode(mapping)).toBe(0);
  expect(agents).toEqual([discogs, expect.stringMatching(/^Marquee\/[\d.]+ providers test$/)]);
});
