import type { Preset } from './preset.ts';

/** Bandsintown API v3 artist events; the app id is read from BANDSINTOWN_APP_ID. */
export const bandsintownPreset: Preset = {
  name: 'bandsintown',
  kind: 'json-api',
  description: 'Bandsintown API v3 /artists/{name}/events (app_id from BANDSINTOWN_APP_ID)',
  exampleUrl: 'https://rest.bandsintown.com/artists/JoJo/events?date=upcoming',
  config: {
    items: '$',
    fields: {
      id: 'id',
      // Titles are usually empty: "<first artist> @ <venue>" then.
      title: ['title', { template: '{lineup.0} @ {venue.name}' }],
      start: ['starts_at', 'datetime'],
      end: 'ends_at',
      url: 'url',
      venueName: 'venue.name',
      venueAddress: 'venue.street_address',
      venueCity: 'venue.city',
      venueCountry: 'venue.country',
      venueLat: 'venue.latitude',
      venueLon: 'venue.longitude',
      performers: 'lineup',
    },
    auth: { in: 'query', name: 'app_id', env: 'BANDSINTOWN_APP_ID' },
  },
};
