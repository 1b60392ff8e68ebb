import type { Preset } from './preset.ts';

/** Eventbrite API v3 organization events; the token is read from EVENTBRITE_TOKEN. */
export const eventbritePreset: Preset = {
  name: 'eventbrite',
  kind: 'json-api',
  description: 'Eventbrite API v3 /organizations/{id}/events/ (Bearer token from EVENTBRITE_TOKEN)',
  exampleUrl: 'https://www.eventbriteapi.com/v3/organizations/1773924472233/events/?status=live',
  config: {
    items: 'events',
    // The venue and prices come inline only when expanded (otherwise just venue_id).
    query: { expand: 'venue,ticket_availability' },
    fields: {
      id: 'id',
      title: 'name.text',
      start: 'start.local',
      end: 'end.local',
      timezone: ['start.timezone', 'timezone'],
      url: 'url',
      venueName: 'venue.name',
      venueAddress: 'venue.address.address_1',
      venueCity: 'venue.address.city',
      venueCountry: 'venue.address.country',
      venueLat: 'venue.latitude',
      venueLon: 'venue.longitude',
      status: 'status',
      currency: 'currency',
      minPrice: 'ticket_availability.minimum_ticket_price.major_value',
      maxPrice: 'ticket_availability.maximum_ticket_price.major_value',
      free: 'is_free',
    },
    auth: { in: 'header', name: 'Authorization', prefix: 'Bearer ', env: 'EVENTBRITE_TOKEN' },
    pagination: {
      type: 'cursor',
      cursorParam: 'continuation',
      cursorPath: 'pagination.continuation',
      hasMorePath: 'pagination.has_more_items',
    },
    maxPages: 20,
  },
};
