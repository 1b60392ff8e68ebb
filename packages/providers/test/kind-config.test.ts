// Each kind's config schema: errors name the field; presets fill in a config.
import { describe, expect, it } from '@jest/globals';
import {
  findPreset,
  getProviderKind,
  parseProviderConfig,
  presets,
  ProviderConfigError,
} from '../src/index.ts';

const check = (kind: string, config: unknown) => () =>
  parseProviderConfig(getProviderKind(kind), config);

const fields = { title: 'name', start: 'date' };

describe('kind configs', () => {
  it('json-api names the missing or bad fields', () => {
    expect(check('json-api', { fields })).toThrow(ProviderConfigError);
    expect(check('json-api', { fields })).toThrow('invalid json-api config: items:');
    expect(check('json-api', { items: 'events', fields: { start: 'date' } })).toThrow(
      'fields.title: required: where the title is',
    );
    expect(check('json-api', { items: 'events', fields: { title: 'name' } })).toThrow(
      'fields.start: required',
    );
    expect(check('json-api', { items: 'e', fields: { ...fields, colour: 'c' } })).toThrow(
      /fields: .*colour/,
    );
    expect(
      check('json-api', { items: 'e', fields, pagination: { type: 'page', size: 0 } }),
    ).toThrow('pagination.size:');
    expect(check('json-api', { items: 'e', fields, pagination: { type: 'pages' } })).toThrow(
      'pagination.type:',
    );
  });

  it('json-api takes the NAME of the secret variable, never the secret', () => {
    const auth = { name: 'Authorization', prefix: 'Bearer ', env: 'sk_live_4f8a9b' };
    expect(check('json-api', { items: 'e', fields, auth })).toThrow(
      'auth.env: must be the NAME of an environment variable',
    );
    expect(
      check('json-api', { items: 'e', fields, headers: { Authorization: 'Bearer x' } }),
    ).toThrow('headers: credentials go in auth');
    expect(
      check('json-api', { items: 'e', fields, auth: { ...auth, env: 'API_TOKEN' } })(),
    ).toMatchObject({
      auth: { in: 'header', env: 'API_TOKEN' },
    });
  });

  it('xml-feed, html-selectors and jsonld-html name their fields too', () => {
    expect(check('xml-feed', { items: 'a.b', fields: { title: 't' } })).toThrow('fields.start:');
    expect(check('html-selectors', { fields })).toThrow('items:');
    expect(check('html-selectors', { items: '.ev', fields, timezone: 'Mars/Base' })).toThrow(
      'timezone: must be an IANA zone',
    );
    expect(check('jsonld-html', { maxPages: 0 })).toThrow('maxPages:');
    expect(check('jsonld-html', { nextSelector: 'a.next', pages: 3 })).toThrow('pages');
    expect(check('jsonld-html', {})()).toMatchObject({ maxPages: 10, microdata: true });
  });

  it('a preset fills the config; given keys override it; an unknown preset is named', () => {
    const config = check('json-api', {
      preset: 'ticketmaster-discovery',
      fields: { title: 'name' },
      maxPages: 2,
    })() as Record<string, unknown>;
    expect(config).toMatchObject({
      preset: 'ticketmaster-discovery',
      items: '_embedded.events',
      maxPages: 2,
      auth: { in: 'query', name: 'apikey', env: 'TICKETMASTER_API_KEY' },
      fields: { title: 'name', startDate: 'dates.start.localDate' },
    });
    expect(check('json-api', { preset: 'ticketmaster' })).toThrow(
      'preset: unknown preset; json-api presets: ticketmaster-discovery, songkick, bandsintown, eventbrite',
    );
    // A preset of another kind is not one of this kind's.
    expect(check('json-api', { preset: 'lastfm-events' })).toThrow('preset: unknown preset');
    expect(check('xml-feed', { preset: 'lastfm-events' })()).toMatchObject({
      items: ['lfm.events.event', 'lfm.event'],
    });
  });

  it('every preset is a valid config of its kind', () => {
    expect(presets().map((preset) => preset.name)).toEqual([
      'ticketmaster-discovery',
      'songkick',
      'bandsintown',
      'eventbrite',
      'lastfm-events',
    ]);
    for (const preset of presets()) {
      expect(check(preset.kind, { preset: preset.name })()).toBeDefined();
      expect(check(preset.kind, preset.config)()).toBeDefined();
    }
    expect(findPreset('nope')).toBeUndefined();
  });
});
