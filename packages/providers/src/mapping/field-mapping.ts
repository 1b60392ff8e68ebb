import { Info } from 'luxon';
import { z } from 'zod';
import type { RawEvent } from './event.normalizer.ts';

/**
 * Where one field's value is read: a path (its syntax is the kind's: a dotted path into JSON/XML,
 * a CSS selector in HTML), `{ "template": "{lineup.0} @ {venue.name}" }` built from paths, or a
 * list of those tried in order until one gives a non-empty value.
 */
const fieldSource = z.union([
  z.string().min(1, 'must be a non-empty path'),
  z.object({ template: z.string().min(1) }).strict(),
]);
const fieldSpec = z.union([fieldSource, z.array(fieldSource).min(1)]);
export type FieldSpec = z.infer<typeof fieldSpec>;
type FieldSource = z.infer<typeof fieldSource>;

const FIELD_NAMES = [
  'id',
  'title',
  'start',
  'startDate',
  'startTime',
  'end',
  'endDate',
  'endTime',
  'timezone',
  'url',
  'venueName',
  'venueAddress',
  'venueCity',
  'venueCountry',
  'venueLat',
  'venueLon',
  'performers',
  'status',
  'currency',
  'minPrice',
  'maxPrice',
  'free',
] as const;
type FieldName = (typeof FIELD_NAMES)[number];

export const fieldsSchema = z
  .object(Object.fromEntries(FIELD_NAMES.map((name) => [name, fieldSpec.optional()])))
  .strict()
  .superRefine((fields, ctx) => {
    if (fields.title === undefined) {
      ctx.addIssue({ code: 'custom', path: ['title'], message: 'required: where the title is' });
    }
    if (fields.start === undefined && fields.startDate === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['start'],
        message: 'required: where the start is (or startDate [+ startTime])',
      });
    }
  }) as unknown as z.ZodType<Partial<Record<FieldName, FieldSpec>>>;
export type FieldMapping = Partial<Record<FieldName, FieldSpec>>;

/** Reads every value at a path of one item (a kind's own path syntax). */
export type PathReader<Item> = (item: Item, path: string) => string[];

const PLACEHOLDER = /\{([^{}]+)\}/g;

function readSource<Item>(item: Item, source: FieldSource, read: PathReader<Item>): string[] {
  if (typeof source === 'string') return read(item, source);
  let missing = false;
  const text = source.template.replace(PLACEHOLDER, (_match, path: string) => {
    const value = read(item, path.trim()).find((candidate) => candidate.trim() !== '');
    if (value === undefined) missing = true;
    return value ?? '';
  });
  // A template with a hole is no value, so the next source in the list is tried.
  return missing ? [] : [text];
}

function readAll<Item>(item: Item, spec: FieldSpec | undefined, read: PathReader<Item>): string[] {
  if (spec === undefined) return [];
  for (const source of Array.isArray(spec) ? spec : [spec]) {
    const values = readSource(item, source, read).filter((value) => value.trim() !== '');
    if (values.length > 0) return values;
  }
  return [];
}

const FALSE = /^(false|0|no|)$/i;

/** Applies a declarative mapping to one item. */
export function mapItem<Item>(item: Item, fields: FieldMapping, read: PathReader<Item>): RawEvent {
  const first = (name: FieldName) => readAll(item, fields[name], read)[0];
  const free = first('free');
  return {
    id: first('id'),
    title: first('title'),
    start: first('start'),
    startDate: first('startDate'),
    startTime: first('startTime'),
    end: first('end'),
    endDate: first('endDate'),
    endTime: first('endTime'),
    timezone: first('timezone'),
    url: first('url'),
    venueName: first('venueName'),
    venueAddress: first('venueAddress'),
    venueCity: first('venueCity'),
    venueCountry: first('venueCountry'),
    venueLat: first('venueLat'),
    venueLon: first('venueLon'),
    performers: readAll(item, fields.performers, read),
    status: first('status'),
    currency: first('currency'),
    minPrices: readAll(item, fields.minPrice, read),
    maxPrices: readAll(item, fields.maxPrice, read),
    free: free === undefined ? undefined : !FALSE.test(free.trim()),
  };
}

/** Options shared by the declarative kinds for reading dates. */
export const dateOptionsShape = {
  /** luxon formats tried after ISO 8601 / RFC 2822, e.g. "EEE, dd MMM yyyy HH:mm:ss". */
  dateFormats: z.array(z.string().min(1)).optional(),
  /** Locale of month/day names in dateFormats, e.g. "da". */
  locale: z.string().min(2).optional(),
  /** Zone of times without an offset; default: the provider's --timezone. */
  timezone: z
    .string()
    .refine((zone) => Info.isValidIANAZone(zone), 'must be an IANA zone, e.g. Europe/Madrid')
    .optional(),
};
