// The same real event from two providers (Meetup's group page and its event page, real fixtures)
// is one canonical event in search, with both sources listed; each provider keeps its own ids.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Provider } from '@marquee/db';
import { eventId, type EventRecord } from '@marquee/event-model';
import { loadHtml, parseJsonldPage } from '@marquee/providers';
import { databaseStackFor, eventRecord, REPO_ROOT } from '@marquee/testing';

const fixture = (name: string) =>
  parseJsonldPage(
    loadHtml(readFileSync(join(REPO_ROOT, 'packages/providers/test/fixtures/real/html', name))),
    { timezone: 'America/Los_Angeles', baseUrl: 'https://www.meetup.com/' },
  ).events;

const groupEvents = fixture('meetup_python-spokane_group_2024.html');
const pageEvents = fixture('meetup_python-spokane_event_2024.html');
const DAGGER = 'Dagger with Spokane Tech 🚀';
const window = {
  startsAt: new Date('2024-03-01T00:00:00Z'),
  endsAt: new Date('2024-06-30T00:00:00Z'),
};

const stack = databaseStackFor('dedupe', { beforeAll, afterAll });
let group: Provider;
let page: Provider;

beforeAll(async () => {
  const provider = (name: string) =>
    stack.providers.create({
      name,
      kind: 'jsonld-html',
      url: `https://www.meetup.com/${name}`,
      everySeconds: 60,
      timezone: 'UTC',
    });
  group = await provider('meetup-group');
  page = await provider('meetup-event');
  // The group page is seen first, so its row is the canonical one.
  await stack.events.upsertMany(group, groupEvents, new Date('2024-03-01T10:00:00Z'));
  await stack.events.upsertMany(page, pageEvents, new Date('2024-03-01T11:00:00Z'));
});

const daggerOf = (list: EventRecord[]) =>
  list.find((event) => event.title === DAGGER) as EventRecord;

describe('cross-provider de-duplication', () => {
  it('the fixtures are the same event with different keys and offsets', () => {
    expect(groupEvents).toHaveLength(4);
    expect(pageEvents).toHaveLength(1);
    expect(daggerOf(groupEvents).externalKey).not.toBe(daggerOf(pageEvents).externalKey);
    expect(daggerOf(groupEvents).startsAt).toEqual(daggerOf(pageEvents).startsAt);
  });

  it('/search lists the canonical event once: the row of the provider that reported it first', async () => {
    const found = JSON.parse(await stack.events.searchJson(window)) as {
      id: string;
      title: string;
    }[];
    expect(found).toHaveLength(4);
    expect(found.filter((event) => event.title === DAGGER)).toEqual([
      expect.objectContaining({ id: eventId('meetup-group', daggerOf(groupEvents).externalKey) }),
    ]);
    const rows = await stack.events.searchPage({ ...window, limit: 100 });
    expect(rows).toHaveLength(4);
    expect(rows.find((row) => row.title === DAGGER)?.provider).toBe('meetup-group');
  });

  it('lists every source; each provider keeps its own stable id and its own listing', async () => {
    const pageId = eventId('meetup-event', daggerOf(pageEvents).externalKey);
    const groupId = eventId('meetup-group', daggerOf(groupEvents).externalKey);
    for (const id of [groupId, pageId]) {
      const event = await stack.events.findById(id);
      expect(event?.id).toBe(id);
      expect(event?.sources.map((source) => [source.provider, source.external_key])).toEqual([
        ['meetup-group', daggerOf(groupEvents).externalKey],
        ['meetup-event', daggerOf(pageEvents).externalKey],
      ]);
    }
    const own = await stack.events.searchPage({ ...window, provider: 'meetup-event', limit: 100 });
    expect(own.map((row) => row.id)).toEqual([pageId]);
    const other = (
      await stack.events.findById(eventId('meetup-group', groupEvents[1]?.externalKey ?? ''))
    )?.sources;
    expect(other).toHaveLength(1);
  });

  it('the tie-break holds when the later provider changes its copy', async () => {
    const changed = {
      ...daggerOf(pageEvents),
      minPrice: '5.00',
      maxPrice: '5.00',
      currency: 'USD',
    };
    expect(
      await stack.events.upsertMany(page, [changed], new Date('2024-03-02T00:00:00Z')),
    ).toEqual({
      written: 1,
    });
    const found = JSON.parse(await stack.events.searchJson(window)) as {
      id: string;
      title: string;
    }[];
    expect(found.filter((event) => event.title === DAGGER).map((event) => event.id)).toEqual([
      eventId('meetup-group', daggerOf(groupEvents).externalKey),
    ]);
  });

  it('events without a venue are never merged, even with the same title and start', async () => {
    const bare = eventRecord({
      externalKey: 'x',
      title: 'Same Title',
      startsAt: new Date('2024-04-01T18:00:00Z'),
    });
    await stack.events.upsertMany(group, [bare], new Date());
    await stack.events.upsertMany(page, [bare], new Date());
    const found = JSON.parse(await stack.events.searchJson(window)) as { title: string }[];
    expect(found.filter((event) => event.title === 'Same Title')).toHaveLength(2);
  });
});
