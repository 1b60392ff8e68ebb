// Issue 12, item 2: providers as code. `marquee providers apply -f FILE [--prune]` through the
// CLI's program on a test database: YAML and JSON, create/update/unchanged/removed by name, all or
// nothing on a bad entry, ids and events kept by an update, and the in-process `applyProviders`.
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { applyProviders } from '../src/index.ts';
import { useCliStack } from './cli.harness.ts';

const stack = useCliStack({ label: 'cli-apply' });
const apply = (...args: string[]) => stack.marquee('providers', 'apply', ...args);

const snapshot = async () =>
  (await stack.providers.list()).map(({ id, name, url, everySeconds, enabled }) => ({
    id,
    name,
    url,
    everySeconds,
    enabled,
  }));

const FIRST = `# providers kept in git
providers:
  - name: sala-apolo
    kind: jsonld-html
    url: http://127.0.0.1:9/agenda
    every: 15m
    timezone: Europe/Madrid
  - name: discogs
    kind: json-api
    url: http://127.0.0.1:9/releases
    config:
      items: results
      fields: { id: id, title: title, start: date }
      headers: { User-Agent: MarqueeBot/1.0 +https://example.org }
  - name: paused
    kind: fever-xml
    url: http://127.0.0.1:9/feed.xml
    enabled: false
`;

describe('providers apply', () => {
  it('creates from YAML, then reports an identical file as unchanged', async () => {
    const created = await apply('-f', stack.file('first.yaml', FIRST));
    expect(created).toMatchObject({ code: 0, out: 'created 3, updated 0, unchanged 0, removed 0' });
    expect(await snapshot()).toEqual([
      expect.objectContaining({ name: 'discogs', everySeconds: 300, enabled: true }),
      expect.objectContaining({ name: 'paused', enabled: false }),
      expect.objectContaining({ name: 'sala-apolo', everySeconds: 900 }),
    ]);
    const discogs = await stack.providers.findByName('discogs');
    expect(discogs?.config).toMatchObject({
      headers: { 'User-Agent': 'MarqueeBot/1.0 +https://example.org' },
    });

    const again = await apply('-f', stack.file('again.yaml', FIRST));
    expect(again.out).toBe('created 0, updated 0, unchanged 3, removed 0');
  });

  it('updates in place by name (same id, events kept) and creates what is new, from JSON', async () => {
    const before = await snapshot();
    const apolo = before.find((row) => row.name === 'sala-apolo');
    if (!apolo) throw new Error('sala-apolo was not created');
    await stack.storeEvent(apolo);
    const json = stack.file(
      'second.json',
      JSON.stringify([
        { name: 'sala-apolo', kind: 'jsonld-html', url: 'http://127.0.0.1:9/v2', every: '1h' },
        { name: 'new-one', kind: 'fever-xml', url: 'http://127.0.0.1:9/new.xml', every: 60 },
      ]),
    );
    const result = await apply('-f', json);
    expect(result.out).toBe('created 1, updated 1, unchanged 0, removed 0');
    const after = await snapshot();
    expect(after.find((row) => row.name === 'sala-apolo')).toEqual({
      ...apolo,
      url: 'http://127.0.0.1:9/v2',
      everySeconds: 3600,
    });
    expect(after.find((row) => row.name === 'new-one')?.everySeconds).toBe(60);
    expect(after.map((row) => row.name)).toContain('discogs');
    expect(await stack.db.event.count({ where: { providerId: apolo.id } })).toBe(1);
  });

  it('refuses a file with a bad entry as a whole: exit 2, entry and field named, nothing changed', async () => {
    const before = await snapshot();
    const bad = stack.file(
      'bad.yaml',
      `- { name: sala-apolo, kind: jsonld-html, url: http://127.0.0.1:9/v3 }
- { name: typo, kind: json-api, url: "not a url" }
- { name: extra, kind: fever-xml, url: http://127.0.0.1:9/x.xml, evry: 5m }
- { name: cfg, kind: json-api, url: http://127.0.0.1:9/j, config: { items: 3 } }
- { name: sala-apolo, kind: fever-xml, url: http://127.0.0.1:9/dup.xml }
- { name: tz, kind: fever-xml, url: http://127.0.0.1:9/tz.xml, timezone: Mars/Base }
`,
    );
    const result = await apply('-f', bad, '--prune');
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/nothing applied, 5 problem\(s\)/);
    expect(result.err).toMatch(/entry 2 \(typo\): url "not a url" is not a URL/);
    expect(result.err).toMatch(/entry 3 \(extra\): unknown field "evry"/);
    expect(result.err).toMatch(/entry 4 \(cfg\): config: invalid json-api config: items/);
    expect(result.err).toMatch(/entry 5 \(sala-apolo\): name: the same as entry 1/);
    expect(result.err).toMatch(/entry 6 \(tz\): timezone "Mars\/Base" is not an IANA time zone/);
    // In file order, whichever check finished first.
    const order = [...result.err.matchAll(/entry (\d+) \(/g)].map((match) => Number(match[1]));
    expect(order).toEqual([2, 3, 4, 5, 6]);
    expect(await snapshot()).toEqual(before);
  });

  it('names unreadable files and documents of the wrong shape (exit 2)', async () => {
    const missing = await apply('-f', join(stack.dir, 'nope.yaml'));
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.err).toMatch(/cannot read .*nope\.yaml: ENOENT/);
    const broken = await apply('-f', stack.file('broken.json', '[{"name":'));
    expect(broken.err).toMatch(/broken\.json is not valid JSON/);
    const shape = await apply('-f', stack.file('shape.yaml', 'name: x\n'));
    expect(shape.code).toBe(2);
    expect(shape.err).toMatch(/must hold a list of providers/);
  });

  it('--prune removes the providers the file does not name, with their events', async () => {
    const prune = stack.file(
      'prune.yaml',
      'providers:\n  - { name: new-one, kind: fever-xml, url: http://127.0.0.1:9/new.xml, every: 60 }\n',
    );
    const result = await apply('--prune', '-f', prune);
    expect(result.out).toBe('created 0, updated 0, unchanged 1, removed 3');
    expect((await snapshot()).map((row) => row.name)).toEqual(['new-one']);
    expect(await stack.db.event.count()).toBe(0);
  });

  it('applies 1,000 entries in process, then updates and prunes them', async () => {
    const entries = Array.from({ length: 1_000 }, (_, index) => ({
      name: `bulk-${index}`,
      kind: 'fever-xml',
      url: `http://127.0.0.1:9/feed-${index}.xml`,
      every: '10m',
    }));
    expect(await applyProviders(stack.db, entries, { allowPrivate: true })).toEqual({
      created: 1_000,
      updated: 0,
      unchanged: 0,
      removed: 0,
    });
    const changed = entries.map((entry, index) =>
      index % 2 === 0 ? { ...entry, every: '20m' } : entry,
    );
    expect(
      await applyProviders(stack.db, { providers: changed }, { allowPrivate: true, prune: true }),
    ).toEqual({
      created: 0,
      updated: 500,
      unchanged: 500,
      removed: 1,
    });
    expect(await stack.db.provider.count({ where: { everySeconds: 1200 } })).toBe(500);
  });

  it('refuses private addresses unless allowed, naming the entry', async () => {
    await expect(
      applyProviders(stack.db, [{ name: 'x', kind: 'fever-xml', url: 'http://10.1.2.3/f.xml' }]),
    ).rejects.toThrow(/entry 1 \(x\): url: refused to connect to 10\.1\.2\.3/);
  });
});
