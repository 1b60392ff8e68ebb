import { createRequire } from 'node:module';
import type * as Cheerio from 'cheerio';

const requireModule = createRequire(import.meta.url);
let loaded: typeof Cheerio | undefined;

/**
 * cheerio, loaded on first use. Only the HTML kinds need it, and with its parsers it is the
 * largest module a worker would otherwise load at start (~16–22 MB of resident memory), also in
 * workers that only ever ingest XML or JSON. Loaded through `require` (cheerio ships CommonJS
 * too) so the functions that use it stay synchronous.
 */
export function cheerio(): typeof Cheerio {
  loaded ??= requireModule('cheerio') as typeof Cheerio;
  return loaded;
}
