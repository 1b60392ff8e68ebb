import type { RawEvent } from '../mapping/event.normalizer.ts';
import type { PriceValue } from '../price/event-price.reader.ts';
import { decodeHtmlEntities } from './html-entity.decoder.ts';

/** A schema.org node, from JSON-LD or microdata (microdata items carry their text in `_text`). */
export type SchemaNode = Record<string, unknown>;

// Event subtypes whose names do not end in "Event"; every "…Event" type is an event.
const EVENT_TYPES = new Set(['Festival', 'Hackathon', 'EventSeries', 'CourseInstance']);

// Type names some sites write where a performer's name belongs (`"performer": "Organization"`).
const TYPE_NAMES = new Set(['Organization', 'Person', 'PerformingGroup', 'MusicGroup', 'Thing']);

function isNode(value: unknown): value is SchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `@type` without its vocabulary: "http://schema.org/MusicEvent" and "schema:MusicEvent" → "MusicEvent". */
function schemaTypes(node: SchemaNode): string[] {
  const raw = node['@type'];
  const list = Array.isArray(raw) ? raw : [raw];
  return list
    .filter((type): type is string => typeof type === 'string')
    .map((type) => type.replace(/^.*[/#:]/, '').trim());
}

export function isEventNode(node: SchemaNode): boolean {
  return schemaTypes(node).some((type) => type.endsWith('Event') || EVENT_TYPES.has(type));
}

function list(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** Text of a property: a string, a number, or the name / value of a node. */
function text(value: unknown): string | undefined {
  for (const item of list(value)) {
    if (typeof item === 'string') {
      const decoded = decodeHtmlEntities(item).trim();
      if (decoded !== '') return decoded;
    } else if (typeof item === 'number') {
      return String(item);
    } else if (isNode(item)) {
      const inner = text(item['@value']) ?? text(item.name);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

function place(value: unknown): SchemaNode | undefined {
  const nodes = list(value);
  const found = nodes.find(isNode) ?? nodes.find((item) => typeof item === 'string');
  if (typeof found === 'string') return { name: found };
  return found;
}

function address(value: unknown): { street?: string; city?: string; country?: string } {
  const node = list(value).find(isNode);
  if (node === undefined) {
    const street = text(value);
    return street === undefined ? {} : { street };
  }
  const street = [text(node.streetAddress), text(node.postalCode)].filter(Boolean).join(', ');
  const city = text(node.addressLocality);
  const country = text(node.addressCountry);
  return {
    ...(street !== '' ? { street } : {}),
    ...(city !== undefined ? { city } : {}),
    ...(country !== undefined ? { country } : {}),
  };
}

function performers(value: unknown): string[] {
  return list(value)
    .map((item) =>
      typeof item === 'string' && TYPE_NAMES.has(item.trim()) ? undefined : text(item),
    )
    .filter((name): name is string => name !== undefined);
}

/** A price property: a JSON number as it is (read exactly), else its text. */
function priceValue(value: unknown): PriceValue | undefined {
  const first = list(value)[0];
  return typeof first === 'number' ? first : text(value);
}

function prices(offers: unknown): { min: PriceValue[]; max: PriceValue[]; currency?: string } {
  const min: PriceValue[] = [];
  const max: PriceValue[] = [];
  let currency: string | undefined;
  for (const offer of list(offers).filter(isNode)) {
    const price = priceValue(offer.price);
    const low = priceValue(offer.lowPrice) ?? price;
    const high = priceValue(offer.highPrice) ?? price;
    if (low !== undefined) min.push(low);
    if (high !== undefined) max.push(high);
    currency ??= text(offer.priceCurrency);
  }
  return { min, max, ...(currency !== undefined ? { currency } : {}) };
}

/**
 * The fields of a schema.org Event node. Its key is its URL (or `@id`) with its start, so the
 * dates of one show sharing a page URL stay distinct; without either, the key derives from title,
 * start and venue.
 */
export function schemaEventToRaw(node: SchemaNode): RawEvent {
  const location = place(node.location);
  const where = address(location?.address);
  const geo = list(location?.geo).find(isNode);
  const offers = prices(node.offers);
  const url = text(node.url);
  const reference =
    url ??
    (typeof node['@id'] === 'string' && !node['@id'].startsWith('_:') ? node['@id'] : undefined);
  const start = text(node.startDate);
  return {
    id: reference === undefined ? undefined : `${reference}|${start ?? ''}`,
    title: text(node.name),
    start,
    end: text(node.endDate),
    url,
    venueName:
      text(location?.name) ?? (typeof location?._text === 'string' ? location._text : undefined),
    venueAddress: where.street,
    venueCity: where.city,
    venueCountry: where.country,
    venueLat: text(geo?.latitude),
    venueLon: text(geo?.longitude),
    performers: performers(node.performer),
    status: text(node.eventStatus),
    currency: offers.currency,
    minPrices: offers.min,
    maxPrices: offers.max,
    free:
      node.isAccessibleForFree === true || node.isAccessibleForFree === 'true' ? true : undefined,
  };
}

/** Every event node in a JSON-LD value: arrays, `@graph`, nested nodes, `subEvent`s. */
export function collectEventNodes(
  value: unknown,
  into: SchemaNode[] = [],
  depth = 0,
): SchemaNode[] {
  if (depth > 32) return into;
  if (Array.isArray(value)) {
    for (const item of value) collectEventNodes(item, into, depth + 1);
    return into;
  }
  if (!isNode(value)) return into;
  if (isEventNode(value)) {
    into.push(value);
    collectEventNodes(value.subEvent, into, depth + 1);
    return into;
  }
  for (const child of Object.values(value)) collectEventNodes(child, into, depth + 1);
  return into;
}
