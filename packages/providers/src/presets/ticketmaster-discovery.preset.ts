import type { Preset } from './preset.ts';

const venue = '_embedded.venues.0';

/** Ticketmaster Discovery API v2 event search; the key is read from TICKETMASTER_API_KEY. */
export const ticketmasterDiscoveryPreset: Preset = {
  name: 'ticketmaster-discovery',
  kind: 'json-api',
  description:
    'Ticketmaster Discovery API v2 /discovery/v2/events.json (apikey from TICKETMASTER_API_KEY)',
  exampleUrl:
    'https://app.ticketmaster.com/discovery/v2/events.json?city=Madrid&classificationName=music',
  config: {
    items: '_embedded.events',
    fields: {
      id: 'id',
      title: 'name',
      // The venue's local date and time in the event's zone; a missing time (timeTBA) is all-day.
      startDate: 'dates.start.localDate',
      startTime: 'dates.start.localTime',
      timezone: 'dates.timezone',
      url: 'url',
      venueName: `${venue}.name`,
      venueAddress: `${venue}.address.line1`,
      venueCity: `${venue}.city.name`,
      venueCountry: `${venue}.country.name`,
      venueLat: `${venue}.location.latitude`,
      venueLon: `${venue}.location.longitude`,
      performers: '_embedded.attractions.name',
      status: 'dates.status.code',
      currency: 'priceRanges.currency',
      minPrice: 'priceRanges.min',
      maxPrice: 'priceRanges.max',
    },
    auth: { in: 'query', name: 'apikey', env: 'TICKETMASTER_API_KEY' },
    // Deep paging stops at 1,000 items (size × page < 1000).
    pagination: {
      type: 'page',
      pageParam: 'page',
      sizeParam: 'size',
      size: 100,
      firstPage: 0,
      totalPagesPath: 'page.totalPages',
    },
    maxPages: 10,
    // 5 requests per second at most.
    minIntervalMs: 250,
  },
};
