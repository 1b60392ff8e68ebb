import { isValidZone } from '../time/iana-zone.guard.ts';
import { decodeXmlEntities } from '../xml/xml-entity.decoder.ts';
import type { EventRecord } from '@marquee/event-model';
import { XMLParser, XMLValidator, type EntityDecoderOptions } from 'fast-xml-parser';
import { DateTime } from 'luxon';
import { ParseResultBuilder } from '../kinds/parse-result.builder.ts';
import { zonedLocalMillis } from '../time/zoned-time.parser.ts';
import { formatCents, parsePriceCents } from '../price/price.util.ts';
import { PayloadError, type ParseContext, type ParseResult } from '../kinds/provider-kind.ts';
import { assertNoDoctypeDeclarations, XML_PARSER_LIMITS } from '../xml/xml.limits.ts';

// Besides parseFeverXml, the exports are for the chunked reader (fever-chunked.parser.ts), which
// applies exactly these rules to one slice at a time.

/**
 * Element and attribute names of one form of the Fever feed. Both forms carry the same data:
 * `<eventList>` (base_event/event) and the newer `<planList>` (base_plan/plan).
 */
export interface FeedForm {
  root: string;
  base: string;
  baseId: string;
  item: string;
  itemId: string;
  start: string;
  end: string;
}

export const FORMS: readonly FeedForm[] = [
  {
    root: 'eventList',
    base: 'base_event',
    baseId: 'base_event_id',
    item: 'event',
    itemId: 'event_id',
    start: 'event_start_date',
    end: 'event_end_date',
  },
  {
    root: 'planList',
    base: 'base_plan',
    baseId: 'base_plan_id',
    item: 'plan',
    itemId: 'plan_id',
    start: 'plan_start_date',
    end: 'plan_end_date',
  },
];

/** Elements that may repeat: always arrays, so one child and many children read the same way. */
const REPEATED = new Set(['output', 'zone', ...FORMS.flatMap((form) => [form.base, form.item])]);

/**
 * Decodes only the five predefined XML entities and character references. Entities declared in a
 * DOCTYPE are never expanded (no "billion laughs", no external entities): they stay as written.
 */
const BUILTIN_ENTITIES_ONLY: EntityDecoderOptions = {
  setExternalEntities: () => undefined,
  addInputEntities: () => undefined,
  reset: () => undefined,
  setXmlVersion: () => undefined,
  decode: decodeXmlEntities,
};

// Stateless between documents (a new internal parser is built per `parse` call), so one is shared.
const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Ids and prices stay strings: "0291" must not become 291, nor "20.10" become 20.1.
  parseAttributeValue: false,
  parseTagValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: true,
  htmlEntities: false,
  entityDecoder: BUILTIN_ENTITIES_ONLY,
  isArray: (name, _path, _isLeaf, isAttribute) => !isAttribute && REPEATED.has(name),
  ...XML_PARSER_LIMITS,
});

export type XmlNode = Record<string, unknown>;

export function isNode(value: unknown): value is XmlNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Child elements by name; an element with neither attributes nor children parses as a string. */
export function children(node: XmlNode, name: string): XmlNode[] {
  const value = node[name];
  const list: unknown[] = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.map((child) => (isNode(child) ? child : {}));
}

/** A non-empty attribute value (already trimmed by the parser), or undefined. */
export function attribute(node: XmlNode, name: string): string | undefined {
  const value = node[`@_${name}`];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Keeps reasons short when a feed carries absurdly long values. */
function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

export function decodeBody(body: Buffer): string {
  try {
    // Strips a leading BOM. Fever serves UTF-8; anything else fails here rather than mis-decoding.
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new PayloadError('payload is not valid UTF-8');
  }
}

export function parseDocument(text: string): XmlNode {
  assertNoDoctypeDeclarations(text);
  const validation = XMLValidator.validate(text);
  if (validation !== true) {
    const { msg, line, col } = validation.err;
    throw new PayloadError(
      `payload is not well-formed XML: ${msg} (line ${line}${col ? `, column ${col}` : ''})`,
    );
  }
  try {
    return xmlParser.parse(text) as XmlNode;
  } catch (error) {
    // The validator accepts some documents the parser refuses (e.g. too many DOCTYPE entities).
    throw new PayloadError(`payload could not be parsed as XML: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

export function feedRoot(document: XmlNode): { form: FeedForm; root: XmlNode } {
  const roots = Object.keys(document);
  const expected = FORMS.map((form) => `<${form.root}>`).join(' or ');
  const name = roots[0];
  if (roots.length !== 1 || name === undefined) {
    throw new PayloadError(
      `payload must have exactly one root element (${expected}); found ${roots.length}`,
    );
  }
  const form = FORMS.find((candidate) => candidate.root === name);
  if (!form) throw new PayloadError(`unknown root element <${name}>; expected ${expected}`);
  const root = document[name];
  if (Array.isArray(root)) {
    throw new PayloadError(`payload has more than one <${name}> root element`);
  }
  const node = isNode(root) ? root : {};
  if (node.output === undefined) throw new PayloadError(`<${name}> has no <output> element`);
  return { form, root: node };
}

type ItemOutcome = { event: EventRecord } | { key: string; reason: string };

/** Epoch milliseconds, or the reason the value is not a time. */
function parseTime(value: string, attributeName: string, zone: string): number | string {
  // Without an offset the time is local to `zone`; an explicit offset or Z wins over it. A local
  // time skipped by a DST jump moves forward; an ambiguous one takes the earlier offset (luxon).
  // The common offset-less form takes a fast path that gives luxon's exact result.
  const fast = zonedLocalMillis(value, zone);
  if (fast !== undefined) return fast;
  const time = DateTime.fromISO(value, { zone });
  if (time.isValid) return time.toMillis();
  return `invalid ${attributeName} ${quote(value)}: ${time.invalidExplanation ?? time.invalidReason ?? 'not an ISO date-time'}`;
}

export function readItem(
  form: FeedForm,
  base: XmlNode,
  item: XmlNode,
  ctx: ParseContext,
): ItemOutcome {
  const baseId = attribute(base, form.baseId);
  const itemId = attribute(item, form.itemId);
  const key = `${baseId ?? '?'}/${itemId ?? '?'}`;
  if (baseId === undefined) return { key, reason: `missing ${form.baseId}` };
  if (itemId === undefined) return { key, reason: `missing ${form.itemId}` };
  // "/" separates the two ids in the key, so it must not occur in them or keys could collide.
  if (baseId.includes('/') || itemId.includes('/')) {
    return { key, reason: `${form.baseId} and ${form.itemId} must not contain "/"` };
  }

  const title = attribute(base, 'title');
  if (title === undefined) return { key, reason: `missing title on <${form.base}>` };

  const startText = attribute(item, form.start);
  if (startText === undefined) return { key, reason: `missing ${form.start}` };
  const start = parseTime(startText, form.start, ctx.timezone);
  if (typeof start === 'string') return { key, reason: start };

  const endText = attribute(item, form.end);
  let end: number | null = null;
  if (endText !== undefined) {
    const parsed = parseTime(endText, form.end, ctx.timezone);
    if (typeof parsed === 'string') return { key, reason: parsed };
    if (parsed < start) {
      return {
        key,
        reason: `${form.end} ${quote(endText)} is before ${form.start} ${quote(startText)}`,
      };
    }
    end = parsed;
  }

  let minCents: number | null = null;
  let maxCents: number | null = null;
  for (const zone of children(item, 'zone')) {
    const zoneId = attribute(zone, 'zone_id') ?? '?';
    const priceText = attribute(zone, 'price');
    if (priceText === undefined) return { key, reason: `zone ${zoneId} has no price` };
    const price = parsePriceCents(priceText);
    if ('error' in price) {
      return { key, reason: `zone ${zoneId}: ${price.error} ${quote(priceText)}` };
    }
    minCents = minCents === null ? price.cents : Math.min(minCents, price.cents);
    maxCents = maxCents === null ? price.cents : Math.max(maxCents, price.cents);
  }

  return {
    event: {
      externalKey: `${baseId}/${itemId}`,
      title,
      startsAt: new Date(start),
      endsAt: end === null ? null : new Date(end),
      timezone: ctx.timezone,
      minPrice: minCents === null ? null : formatCents(minCents),
      maxPrice: maxCents === null ? null : formatCents(maxCents),
      currency: null,
      online: attribute(base, 'sell_mode') === 'online',
    },
  };
}

export function parseFeverXml(body: Buffer, ctx: ParseContext): ParseResult {
  if (!isValidZone(ctx.timezone)) {
    throw new RangeError(`invalid IANA timezone ${quote(ctx.timezone)}`);
  }
  const { form, root } = feedRoot(parseDocument(decodeBody(body)));
  const result = new ParseResultBuilder();
  for (const output of children(root, 'output')) {
    for (const base of children(output, form.base)) {
      for (const item of children(base, form.item)) {
        result.add(readItem(form, base, item, ctx));
      }
    }
  }
  return result.build();
}
