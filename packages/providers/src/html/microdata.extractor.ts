import type { CheerioAPI, contains } from 'cheerio';
import { isEventNode, type SchemaNode } from './schema-event.mapper.ts';

// cheerio does not re-export domhandler's node types.
type Element = Parameters<typeof contains>[1];

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** A property's value by the HTML microdata rules (meta content, link href, time datetime…). */
function propertyValue($: CheerioAPI, element: Element): string {
  const node = $(element);
  switch (String(node.prop('tagName') ?? '').toLowerCase()) {
    case 'meta':
      return node.attr('content') ?? '';
    case 'a':
    case 'link':
    case 'area':
      return node.attr('href') ?? '';
    case 'img':
    case 'audio':
    case 'video':
    case 'source':
    case 'iframe':
    case 'embed':
      return node.attr('src') ?? '';
    case 'object':
      return node.attr('data') ?? '';
    case 'time':
      return node.attr('datetime') ?? collapse(node.text());
    case 'data':
    case 'meter':
      return node.attr('value') ?? '';
    default:
      return node.attr('content') ?? collapse(node.text());
  }
}

function add(item: SchemaNode, name: string, value: unknown): void {
  const existing = item[name];
  if (existing === undefined) item[name] = value;
  else
    item[name] = Array.isArray(existing) ? [...(existing as unknown[]), value] : [existing, value];
}

/**
 * One microdata item as a schema.org node. Besides its properties it keeps its whole text in
 * `_text`: some sites give a Place no name, only a link whose text is the venue.
 */
function readItem($: CheerioAPI, root: Element): SchemaNode {
  const type = $(root).attr('itemtype');
  const item: SchemaNode = {
    ...(type !== undefined ? { '@type': type.trim().split(/\s+/) } : {}),
    _text: collapse($(root).text()),
  };
  const visit = (parent: Element): void => {
    for (const child of $(parent).children().toArray()) {
      const prop = $(child).attr('itemprop');
      const scoped = $(child).attr('itemscope') !== undefined;
      if (prop !== undefined) {
        const value = scoped ? readItem($, child) : propertyValue($, child);
        for (const name of prop.trim().split(/\s+/)) add(item, name, value);
      }
      // A nested item's properties are its own.
      if (!scoped) visit(child);
    }
  };
  visit(root);
  return item;
}

/** Every microdata item of an event type in the page, nested ones included. */
export function extractMicrodataEvents($: CheerioAPI): SchemaNode[] {
  return $('[itemscope][itemtype]')
    .toArray()
    .filter((element) => isEventNode({ '@type': ($(element).attr('itemtype') ?? '').split(/\s+/) }))
    .map((element) => readItem($, element));
}
