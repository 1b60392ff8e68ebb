import type { CheerioAPI } from 'cheerio';
import { parseLenientJson } from '../json/lenient-json.parser.ts';
import { extractMicrodataEvents } from './microdata.extractor.ts';
import { collectEventNodes, type SchemaNode } from './schema-event.mapper.ts';

/** Every schema.org event node of a page: JSON-LD blocks first, then microdata. */
export function extractSchemaEvents($: CheerioAPI, microdata = true): SchemaNode[] {
  const nodes: SchemaNode[] = [];
  $('script[type]').each((_index, element) => {
    const type = ($(element).attr('type') ?? '').toLowerCase().split(';')[0]?.trim();
    if (type !== 'application/ld+json') return;
    // A block nothing can be recovered from is skipped: the rest of the page still counts.
    const value = parseLenientJson($(element).text());
    if (value !== undefined) collectEventNodes(value, nodes);
  });
  if (microdata) nodes.push(...extractMicrodataEvents($));
  return nodes;
}
