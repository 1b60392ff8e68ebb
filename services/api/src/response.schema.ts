import { z } from 'zod';
import { SYNC_RUN_STATUSES } from '@marquee/db';

/*
 * Response bodies, as zod schemas: the OpenAPI document is generated from them and the tests
 * check real answers against that document. `/search`'s shapes follow the Fever contract
 * (test/fixtures/fever/openapi.yaml) field for field.
 */

const date = z.iso.date();
const time = z.iso.time({ precision: 0 });

export const errorEnvelopeSchema = z.object({
  data: z.null(),
  error: z.object({
    code: z.string().meta({ description: 'Stable machine-readable code.' }),
    message: z.string().meta({ description: 'What was wrong, for a person.' }),
  }),
});

export const eventSummarySchema = z.object({
  id: z.uuid(),
  title: z.string(),
  start_date: date.meta({ description: 'Local date the event starts.' }),
  start_time: time.nullable().meta({ description: 'Local time the event starts.' }),
  end_date: date.nullable(),
  end_time: time.nullable(),
  min_price: z.number().nullable().meta({ description: 'Lowest price over all zones.' }),
  max_price: z.number().nullable().meta({ description: 'Highest price over all zones.' }),
});

export const searchResponseSchema = z.object({
  data: z.object({ events: z.array(eventSummarySchema) }),
  error: z.null(),
});

export const eventSchema = eventSummarySchema.extend({
  provider: z.string(),
  starts_at: z.iso.datetime(),
  ends_at: z.iso.datetime().nullable(),
  timezone: z.string().meta({ description: 'IANA zone of the local dates and times.' }),
  currency: z.string().nullable(),
  venue_name: z.string().nullable(),
  city: z.string().nullable(),
  country: z.string().nullable(),
  status: z.string().nullable(),
  url: z.string().nullable(),
  performers: z.array(z.string()).meta({ description: 'Performers, as the provider names them.' }),
});

export const eventsPageResponseSchema = z.object({
  data: z.object({
    events: z.array(eventSchema),
    next_cursor: z
      .string()
      .nullable()
      .meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
  }),
  error: z.null(),
});

const eventSourceSchema = z.object({
  provider: z.string(),
  external_key: z.string().meta({ description: "The provider's own key of the event." }),
  online: z.boolean().meta({ description: 'On sale online in the latest payload.' }),
  first_seen_at: z.iso.datetime(),
  last_seen_at: z.iso.datetime(),
  min_price: z.number().nullable().meta({ description: "This source's lowest price." }),
  max_price: z.number().nullable().meta({ description: "This source's highest price." }),
  currency: z.string().nullable(),
});

export const eventDetailResponseSchema = z.object({
  data: z.object({
    event: eventSchema.extend({
      min_price: z.number().nullable().meta({
        description: "The least of the sources' lowest prices (in the event's currency).",
      }),
      max_price: z.number().nullable().meta({
        description: "The greatest of the sources' highest prices (in the event's currency).",
      }),
      sources: z
        .array(eventSourceSchema)
        .meta({ description: 'Every provider row of the same real event, first seen first.' }),
    }),
  }),
  error: z.null(),
});

export const providerStatusSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  kind: z.string(),
  enabled: z.boolean(),
  every_seconds: z.int(),
  events: z.int().meta({ description: 'Events stored for this provider.' }),
  last_sync: z
    .object({
      status: z.enum(SYNC_RUN_STATUSES).meta({
        description:
          'skipped: an open circuit breaker, nothing fetched; waiting: the provider rate-limited the sync (or its host was busy) and its job was put off until `resumes_at`, not failed.',
      }),
      trigger: z.string(),
      started_at: z.iso.datetime(),
      finished_at: z.iso.datetime().nullable(),
      upserted: z.int(),
      unchanged: z.int(),
      rejected: z.int(),
      error: z.string().nullable(),
      resumes_at: z.iso
        .datetime()
        .nullable()
        .meta({ description: 'On a waiting run: when its job runs again.' }),
    })
    .nullable(),
  breaker: z
    .object({
      state: z.enum(['closed', 'open', 'halfOpen']),
      last_error: z.string().nullable(),
      probe_at: z.iso.datetime().nullable().meta({ description: 'When an open breaker probes.' }),
    })
    .nullable()
    .meta({ description: "The provider's circuit breaker as workers report it; null: unknown." }),
});

export const providersResponseSchema = z.object({
  data: z.object({ providers: z.array(providerStatusSchema) }),
  error: z.null(),
});

export const changesPageResponseSchema = z.object({
  data: z.object({
    changes: z.array(
      z.object({
        cursor: z.string().meta({ description: 'Resumes right after this change.' }),
        kind: z.enum(['created', 'updated', 'cancelled', 'merged', 'deleted']).meta({
          description:
            'created: entered the catalog; updated: a stored field changed; cancelled: its status became cancelled; merged: another row of the same real event joined, changed or left; deleted: its provider was removed.',
        }),
        event_id: z.uuid(),
        changed_at: z.iso.datetime(),
        event: eventDetailResponseSchema.shape.data.shape.event.nullable().meta({
          description:
            'The event as `/v1/events/{id}` answers it now; null once it left the catalog.',
        }),
      }),
    ),
    next_cursor: z.string().meta({
      description: 'Pass as `after` for the next page; an empty page returns the same place.',
    }),
    has_more: z.boolean().meta({ description: 'More changes are readable now.' }),
  }),
  error: z.null(),
});
