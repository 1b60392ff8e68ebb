// Issue 12, item 2: providers as code. `marquee providers apply -f FILE [--prune]` through the
// CLI's program on a test database: YAML and JSON, create/update/unchanged/removed by name, all or
// nothing on a bad entry, ids and events kept by an update, and the in-process `applyProviders`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDb, ProviderRepository, type Db } from '@marquee/db';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '@marquee/testing';
import { applyProviders } from '../src/index.ts';
import { cliTestEnv, runCliInProcess } from './cli.harness.ts';

let database: TestDatabase;
let db: Db;
let dir: string;
const prefix = uniquePrefix('cli-apply');

beforeAll(async () => {
  database = await createTestDatabase('cli_apply');
  db = createDb({ databaseUrl: database.url, maxConnections: 2 });
  dir = mkdtempSync(join(tmpdir(), 'marquee-apply-'));
});

afterAll(async () => {
  await db.$disconnect();
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
});

const marquee = (...args: string[]) => runCliInProcess(args, cliTestEnv(database.url, prefix));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const snapshot = async () =>
  (await new ProviderRepository(db).list()).map(({ id, name, url, everySeconds, enabled }) => ({
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
    const created = await marquee('providers', 'apply', '-f', file('first.yaml', FIRST));
    expect(created).toMatchObject({ code: 0, out: 'created 3, updated 0, unchanged 0, removed 0' });
    expect(await snapshot()).toEqual([
      expect.objectContaining({ name: 'discogs', everySeconds: 300, enabled: true }),
      expect.objectContaining({ name: 'paused', enabled: false }),
      expect.objectContaining({ name: 'sala-apolo', everySeconds: 900 }),
    ]);
    const discogs = await new ProviderRepository(db).findByName('discogs');
    expect(discogs?.config).toMatchObject({
      headers: { 'User-Agent': 'MarqueeBot/1.0 +https://example.org' },
    });

    const again = await marquee('providers', 'apply', '-f', file('again.yaml', FIRST));
    expect(again.out).toBe('created 0, updated 0, unchanged 3, removed 0');
  });

  it('updates in place by name (same id, events kept) and creates what is new, from JSON', async () => {
    const before = await snapshot();
    const apolo = before.find((row) => row.name === 'sala-apolo');
    await db.event.create({
      data: {
        id: '00000000-0000-4000-8000-000000000001',
        providerId: apolo?.id ?? '',
        externalKey: 'e1',
        title: 'Concierto',
        startsAt: new Date('2030-01-01T20:00:00Z'),
        timezone: 'Europe/Madrid',
        contentHash: 'h',
        online: false,
        everOnline: false,
      },
    });
    const json = file(
      'second.json',
      JSON.stringify([
        { name: 'sala-apolo', kind: 'jsonld-html', url: 'http://127.0.0.1:9/v2', every: '1h' },
        { name: 'new-one', kind: 'fever-xml', url: 'http://127.0.0.1:9/new.xml', every: 60 },
      ]),
    );
    const result = await marquee('providers', 'apply', '-f', json);
    expect(result.out).toBe('created 1, updated 1, unchanged 0, removed 0');
    const after = await snapshot();
    expect(after.find((row) => row.name === 'sala-apolo')).toEqual({
      ...apolo,
      url: 'http://127.0.0.1:9/v2',
      everySeconds: 3600,
    });
    expect(after.find((row) => row.name === 'new-one')?.everySeconds).toBe(60);
    expect(after.map((row) => row.name)).toContain('discogs');
    expect(await db.event.count({ where: { providerId: apolo?.id ?? '' } })).toBe(1);
  });

  it('refuses a file with a bad entry as a whole: exit 2, entry and field named, nothing changed', async () => {
    const before = await snapshot();
    const bad = file(
      'bad.yaml',
      `- { name: sala-apolo, kind: jsonld-html, url: http://127.0.0.1:9/v3 }
- { name: typo, kind: json-api, url: "not a url" }
- { name: extra, kind: fever-xml, url: http://127.0.0.1:9/x.xml, evry: 5m }
- { name: cfg, kind: json-api, url: http://127.0.0.1:9/j, config: { items: 3 } }
- { name: sala-apolo, kind: fever-xml, url: http://127.0.0.1:9/dup.xml }
- { name: tz, kind: fever-xml, url: http://127.0.0.1:9/tz.xml, timezone: Mars/Base }
`,
    );
    const result = await marquee('providers', 'apply', '-f', bad, '--prune');
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
    const missing = await marquee('providers', 'apply', '-f', join(dir, 'nope.yaml'));
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.err).toMatch(/cannot read .*nope\.yaml: ENOENT/);
    const broken = await marquee('providers', 'apply', '-f', file('broken.json', '[{"name":'));
    expect(broken.err).toMatch(/broken\.json is not valid JSON/);
    const shape = await marquee('providers', 'apply', '-f', file('shape.yaml', 'name: x\n'));
    expect(shape.code).toBe(2);
    expect(shape.err).toMatch(/must hold a list of providers/);
  });

  it('--prune removes the providers the file does not name, with their events', async () => {
    const result = await marquee(
      'providers',
      'apply',
      '--prune',
      '-f',
      file(
        'prune.yaml',
        'providers:\n  - { name: new-one, kind: fever-xml, url: http://127.0.0.1:9/new.xml, every: 60 }\n',
      ),
    );
    expect(result.out).toBe('created 0, updated 0, unchanged 1, removed 3');
    expect((await snapshot()).map((row) => row.name)).toEqual(['new-one']);
    expect(await db.event.count()).toBe(0);
  });

  it('applies 1,000 entries in process, then updates and prunes them', async () => {
    const entries = Array.from({ length: 1_000 }, (_, index) => ({
      name: `bulk-${index}`,
      kind: 'fever-xml',
      url: `http://127.0.0.1:9/feed-${index}.xml`,
      every: '10m',
    }));
    expect(await applyProviders(db, entries, { allowPrivate: true })).toEqual({
      created: 1_000,
      updated: 0,
      unchanged: 0,
      removed: 0,
    });
    const changed = entries.map((entry, index) =>
      index % 2 === 0 ? { ...entry, every: '20m' } : entry,
    );
    expect(
      await applyProviders(db, { providers: changed }, { allowPrivate: true, prune: true }),
    ).toEqual({
      created: 0,
      updated: 500,
      unchanged: 500,
      removed: 1,
    });
    expect(await db.provider.count({ where: { everySeconds: 1200 } })).toBe(500);
  });

  it('refuses private addresses unless allowed, naming the entry', async () => {
    await expect(
      applyProviders(db, [{ name: 'x', kind: 'fever-xml', url: 'http://10.1.2.3/f.xml' }]),
    ).rejects.toThrow(/entry 1 \(x\): url: refused to connect to 10\.1\.2\.3/);
  });
});
