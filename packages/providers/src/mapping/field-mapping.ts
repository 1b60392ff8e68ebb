import { isValidZone } from '../time/iana-zone.guard.ts';
import { z } from 'zod';
import type { RawEvent } from './event.normalizer.ts';
import type { Scalar } from './object-path.reader.ts';

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

const fieldsObject = z
  .object(Object.fromEntries(FIELD_NAMES.map((name) => [name, fieldSpec.optional()])))
  .strict();

/** Fields of which none is required (what a detail page adds to a listed item). */
export const someFieldsSchema = fieldsObject as unknown as z.ZodType<
  Partial<Record<FieldName, FieldSpec>>
>;

export const fieldsSchema = fieldsObject.superRefine((fields, ctx) => {
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

/** Reads every value at a path of one item (a kind's own path syntax); JSON numbers stay numbers. */
export type PathReader<Item> = (item: Item, path: string) => readonly Scalar[];

const PLACEHOLDER = /\{([^{}]+)\}/g;

const present = (value: Scalar) => String(value).trim() !== '';

function readSource<Item>(
  item: Item,
  source: FieldSource,
  read: PathReader<Item>,
): readonly Scalar[] {
  if (typeof source === 'string') return read(item, source);
  let missing = false;
  const text = source.template.replace(PLACEHOLDER, (_match, path: string) => {
    const value = read(item, path.trim()).find(present);
    if (value === undefined) missing = true;
    return value === undefined ? '' : String(value);
  });
  // A template with a hole is no value, so the next source in the list is tried.
  return missing ? [] : [text];
}

function readAll<Item>(
  item: Item,
  spec: FieldSpec | undefined,
  read: PathReader<Item>,
): readonly Scalar[] {
  if (spec === undefined) return [];
  for (const source of Array.isArray(spec) ? spec : [spec]) {
    const values = readSource(item, source, read).filter(present);
    if (values.length > 0) return values;
  }
  return [];
}

/** The first value a field spec gives for one item, as text. */
export function readField<Item>(
  item: Item,
  spec: FieldSpec | undefined,
  read: PathReader<Item>,
): string | undefined {
  const value = readAll(item, spec, read)[0];
  return value === undefined ? undefined : String(value);
}

const FALSE = /^(false|0|no|)$/i;

/** Applies a declarative mapping (and the dedupeKey, if configured) to one item. */
export function mapItem<Item>(
  item: Item,
  fields: FieldMapping,
  read: PathReader<Item>,
  dedupeKey?: FieldSpec,
): RawEvent {
  const first = (name: FieldName) => readField(item, fields[name], read);
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
    performers: readAll(item, fields.performers, read).map(String),
    status: first('status'),
    currency: first('currency'),
    minPrices: readAll(item, fields.minPrice, read),
    maxPrices: readAll(item, fields.maxPrice, read),
    free: free === undefined ? undefined : !FALSE.test(free.trim()),
    dedupeKey: readField(item, dedupeKey, read),
  };
}

/** Options shared by the declarative kinds for reading dates. */
const dateOptionsShape = {
  /** luxon formats tried after ISO 8601 / RFC 2822, e.g. "EEE, dd MMM yyyy HH:mm:ss". */
  dateFormats: z.array(z.string().min(1)).optional(),
  /** Locale of month/day names in dateFormats, e.g. "da". */
  locale: z.string().min(2).optional(),
  /** Zone of times without an offset; default: the provider's --timezone. */
  timezone: z
    .string()
    .refine((zone) => isValidZone(zone), 'must be an IANA zone, e.g. Europe/Madrid')
    .optional(),
};

function isKnownLocale(tag: string): boolean {
  try {
    return Intl.NumberFormat.supportedLocalesOf(tag).length === 1;
  } catch {
    return false;
  }
}

/** Options shared by the declarative kinds for reading prices. */
export const priceOptionsShape = {
  /**
   * Locale whose decimal separator settles `1.250` / `1,250` in price texts (es, de: 1250; en:
   * 1.25); default: `locale`, else the rule of docs/providers.md ("Prices").
   */
  priceLocale: z
    .string()
    .refine(isKnownLocale, 'must be a locale, e.g. es, de, en, fr, ca, de-CH')
    .optional(),
};

/**
 * Where an item's shared code is (an ISRC, an EAN, a ticketing id): events of any providers with
 * equal codes are one canonical event. A path, a template or a list, as a field.
 */
export const identityOptionsShape = {
  dedupeKey: fieldSpec.optional(),
};

/** The options of a declarative kind that reads items through fields: dates, prices, identity. */
export const readingOptionsShape = {
  ...dateOptionsShape,
  ...priceOptionsShape,
  ...identityOptionsShape,
};

/** How a configured dedupeKey is named in messages: `dedupeKey path "isrc"`. */
export function describeDedupeKey(spec: FieldSpec | undefined): string | undefined {
  if (spec === undefined) return undefined;
  const sources = Array.isArray(spec) ? spec : [spec];
  const names = sources.map((source) =>
    typeof source === 'string' ? `"${source}"` : `template "${source.template}"`,
  );
  return `dedupeKey ${names.length > 1 ? 'paths' : 'path'} ${names.join(', ')}`;
}

/** What normalizeEvent takes from a declarative kind's config: its date, price and identity options. */
export function readingOptions(config: {
  dateFormats?: readonly string[] | undefined;
  locale?: string | undefined;
  priceLocale?: string | undefined;
  dedupeKey?: FieldSpec | undefined;
}) {
  return {
    dateFormats: config.dateFormats,
    locale: config.locale,
    priceLocale: config.priceLocale,
    dedupeKey: describeDedupeKey(config.dedupeKey),
  };
}
