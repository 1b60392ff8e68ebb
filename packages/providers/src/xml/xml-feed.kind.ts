import { decodeXmlEntities } from './xml-entity.decoder.ts';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { z } from 'zod';
import { contentTypeOf, decodeDocument } from '../kinds/document.decoder.ts';
import { normalizeEvent } from '../mapping/event.normalizer.ts';
import {
  fieldsSchema,
  mapItem,
  readingOptions,
  readingOptionsShape,
  type FieldMapping,
} from '../mapping/field-mapping.ts';
import { pathExists, readPath, readTexts } from '../mapping/object-path.reader.ts';
import { itemsUnmatched } from '../kinds/page-walk.ts';
import { ParseResultBuilder } from '../kinds/parse-result.builder.ts';
import { presetField, withPresets } from '../presets/preset.registry.ts';
import { PayloadError, type ParseResult, type ProviderKind } from '../kinds/provider-kind.ts';
import { authorizer, authSchema } from '../kinds/secret-env.reader.ts';
import {
  assertXmlWithinLimits,
  DEFAULT_PARSE_LIMITS,
  type ParseLimits,
} from '../kinds/parse.limits.ts';

const KIND = 'xml-feed';

const xmlFeedConfigSchema = withPresets(
  KIND,
  z
    .object({
      preset: presetField(KIND),
      /**
       * Dotted path(s) from the root element to the items, tried in order (`lfm.events.event`).
       * Default: RSS `rss.channel.item` / RDF `rdf:RDF.item` / Atom `feed.entry`.
       */
      items: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
      /** Paths inside an item: `venue.name`, attributes as `@id`. Default for RSS/Atom. */
      fields: fieldsSchema.optional(),
      auth: authSchema.optional(),
      ...readingOptionsShape,
    })
    .strict(),
);
export type XmlFeedConfig = z.output<typeof xmlFeedConfigSchema>;

const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  parseAttributeValue: false,
  parseTagValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: false,
  tagValueProcessor: (_name, value) => decodeXmlEntities(value),
  attributeValueProcessor: (_name, value) => decodeXmlEntities(value),
});

interface Format {
  items: string;
  fields: FieldMapping;
}

// Event dates in RSS come from the RSS event module (ev:) when present; otherwise the item date.
const DEFAULT_FORMATS: readonly Format[] = [
  {
    items: 'rss.channel.item',
    fields: {
      id: ['guid', 'link'],
      title: 'title',
      start: ['ev:startdate', 'pubDate', 'dc:date'],
      end: 'ev:enddate',
      url: 'link',
      venueName: 'ev:location',
    },
  },
  {
    items: 'rdf:RDF.item',
    fields: {
      id: ['@rdf:about', 'link'],
      title: 'title',
      start: ['ev:startdate', 'dc:date'],
      end: 'ev:enddate',
      url: 'link',
      venueName: 'ev:location',
    },
  },
  {
    items: 'feed.entry',
    fields: {
      id: 'id',
      title: 'title',
      start: ['published', 'updated'],
      url: 'link.@href',
    },
  },
];

function parseXmlDocument(text: string): unknown {
  const validation = XMLValidator.validate(text);
  if (validation !== true) {
    const { msg, line } = validation.err;
    throw new PayloadError(`payload is not well-formed XML: ${msg} (line ${line})`);
  }
  try {
    return xmlParser.parse(text) as unknown;
  } catch (error) {
    throw new PayloadError(`payload could not be parsed as XML: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Whether an items path is in the document: its last element's parent is (XML has no empty
 * list: `<events/>` without `<event>` is a feed with nothing on, no `<events>` a wrong path).
 */
function itemsPathExists(document: unknown, path: string): boolean {
  return pathExists(document, path.split('.').slice(0, -1).join('.'));
}

function resolveFormat(
  document: unknown,
  config: XmlFeedConfig,
): { items: unknown[]; fields: FieldMapping; unmatched?: string } {
  const paths =
    config.items === undefined
      ? []
      : typeof config.items === 'string'
        ? [config.items]
        : config.items;
  for (const path of paths) {
    const items = readPath(document, path);
    if (items.length > 0 || path === paths.at(-1)) {
      if (config.fields === undefined) {
        throw new PayloadError('config has items but no fields');
      }
      const found = items.length > 0 || paths.some((each) => itemsPathExists(document, each));
      return {
        items: items.filter((item) => item !== ''),
        fields: config.fields,
        ...(!found && { unmatched: itemsUnmatched('path', paths) }),
      };
    }
  }
  for (const format of DEFAULT_FORMATS) {
    if (readPath(document, format.items.split('.')[0] ?? '').length === 0) continue;
    return {
      items: readPath(document, format.items),
      fields: { ...format.fields, ...config.fields },
    };
  }
  throw new PayloadError('no items path configured and the document is neither RSS nor Atom');
}

export function parseXmlFeed(
  body: Buffer,
  config: XmlFeedConfig,
  ctx: {
    timezone: string;
    baseUrl?: string;
    contentType?: string | undefined;
    limits?: ParseLimits | undefined;
  },
): ParseResult {
  const text = decodeDocument(body, ctx.contentType);
  assertXmlWithinLimits(text, ctx.limits ?? DEFAULT_PARSE_LIMITS);
  const document = parseXmlDocument(text);
  const { items, fields, unmatched } = resolveFormat(document, config);
  const result = new ParseResultBuilder();
  for (const item of items) {
    result.add(
      normalizeEvent(mapItem(item, fields, readTexts, config.dedupeKey), {
        timezone: config.timezone ?? ctx.timezone,
        baseUrl: ctx.baseUrl,
        ...readingOptions(config),
      }),
    );
  }
  return { ...result.build(), ...(unmatched !== undefined && { unmatched }) };
}

export const xmlFeed: ProviderKind<XmlFeedConfig> = {
  kind: KIND,
  description: 'XML feed with declarative paths (elements or @attributes), RSS and Atom by default',
  configSchema: xmlFeedConfigSchema,
  async ingest({ url, config, timezone, fetch, limits }) {
    const request = authorizer(config.auth)(url, {});
    const page = await fetch(request.url, { headers: request.headers });
    return parseXmlFeed(page.body, config, {
      timezone,
      baseUrl: page.url,
      contentType: contentTypeOf(page.headers),
      limits,
    });
  },
};
