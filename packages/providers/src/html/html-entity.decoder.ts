import { cheerio } from './cheerio.loader.ts';

const ENTITY = /&(?:#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);?/i;

/**
 * Decodes HTML character references ("&#8211;", "&amp;", "&eacute;") that sites leave inside
 * JSON-LD strings, with the HTML parser's own entity table. Text without any is returned as is.
 */
export function decodeHtmlEntities(text: string): string {
  if (!ENTITY.test(text)) return text;
  // Only "<" could start markup; escaping it first makes the whole string text.
  return cheerio().load(text.replace(/</g, '&lt;'), null, false).text();
}
