import type { Preset } from './preset.ts';

/** last.fm 2.0 event XML (geo.getEvents, artist.getEvents, event.getInfo); key from LASTFM_API_KEY. */
export const lastfmEventsPreset: Preset = {
  name: 'lastfm-events',
  kind: 'xml-feed',
  description:
    'last.fm API 2.0 event XML: geo.getEvents, artist.getEvents, event.getInfo (api_key from LASTFM_API_KEY)',
  exampleUrl: 'https://ws.audioscrobbler.com/2.0/?method=geo.getevents&location=Denver',
  config: {
    items: ['lfm.events.event', 'lfm.event'],
    fields: {
      id: 'id',
      title: 'title',
      start: 'startDate',
      end: 'endDate',
      url: 'url',
      venueName: 'venue.name',
      venueAddress: 'venue.location.street',
      venueCity: 'venue.location.city',
      venueCountry: 'venue.location.country',
      venueLat: 'venue.location.geo:point.geo:lat',
      venueLon: 'venue.location.geo:point.geo:long',
      performers: 'artists.artist',
    },
    // "Fri, 10 Jun 2011 01:58:01": RFC 2822 without a zone, local to the venue.
    dateFormats: ['EEE, d MMM yyyy HH:mm:ss'],
    auth: { in: 'query', name: 'api_key', env: 'LASTFM_API_KEY' },
  },
};
