import type { Preset } from './preset.ts';

/** Songkick API v3 calendars (artist, metro area, venue, user); key from SONGKICK_API_KEY. */
export const songkickPreset: Preset = {
  name: 'songkick',
  kind: 'json-api',
  description: 'Songkick API v3 event calendars (apikey from SONGKICK_API_KEY)',
  exampleUrl: 'https://api.songkick.com/api/3.0/metro_areas/28714/calendar.json',
  config: {
    items: ['resultsPage.results.event', 'resultsPage.results.calendarEntry.event'],
    fields: {
      id: 'id',
      title: 'displayName',
      // Newer payloads carry start.datetime; older ones only date and time (time may be null).
      start: 'start.datetime',
      startDate: 'start.date',
      startTime: 'start.time',
      end: 'end.datetime',
      endDate: 'end.date',
      endTime: 'end.time',
      url: 'uri',
      venueName: 'venue.displayName',
      venueCity: 'location.city',
      venueLat: ['venue.lat', 'location.lat'],
      venueLon: ['venue.lng', 'location.lng'],
      performers: 'performance.displayName',
      status: 'status',
    },
    auth: { in: 'query', name: 'apikey', env: 'SONGKICK_API_KEY' },
    pagination: {
      type: 'page',
      pageParam: 'page',
      sizeParam: 'per_page',
      size: 50,
      firstPage: 1,
      totalPath: 'resultsPage.totalEntries',
    },
    maxPages: 20,
  },
};
