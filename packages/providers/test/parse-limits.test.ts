// Parse limits (PARSE_MAX_HTML_MB, PARSE_MAX_NODES): a document over them is refused before a
// tree is built, with a message naming the limit; one within them parses as before.
import { describe, expect, it } from '@jest/globals';
import { loadHtml, ParseLimitError, parseXmlFeed } from '../src/index.ts';

const limits = { htmlMaxBytes: 64 * 1024, maxNodes: 100 };
const rss = (items: number) =>
  Buffer.from(
    `<rss><channel>${'<item><title>Gig</title><pubDate>Tue, 01 Jan 2030 20:00:00 GMT</pubDate></item>'.repeat(items)}</channel></rss>`,
  );

describe('parse limits', () => {
  it('an HTML page with more elements than PARSE_MAX_NODES is refused, one with fewer parsed', () => {
    const page = (count: number) => Buffer.from(`<ul>${'<li>x</li>'.repeat(count)}</ul>`);
    expect(loadHtml(page(98), 'text/html', limits)('li')).toHaveLength(98);
    expect(() => loadHtml(page(100), 'text/html', limits)).toThrow(ParseLimitError);
    expect(() => loadHtml(page(100), 'text/html', limits)).toThrow(
      /HTML page has more than 100 elements, over the parse limit PARSE_MAX_NODES/,
    );
    // "<" not followed by a letter is text, not an element.
    expect(
      loadHtml(Buffer.from(`<p>${'1 < 2 '.repeat(500)}</p>`), undefined, limits)('p'),
    ).toHaveLength(1);
  });

  it('an HTML page over PARSE_MAX_HTML_MB is refused by its size', () => {
    const big = Buffer.alloc(64 * 1024 + 1, 'a');
    expect(() => loadHtml(big, 'text/html', limits)).toThrow(
      /HTML page of 65537 bytes is over the parse limit PARSE_MAX_HTML_MB \(0\.1 MB\)/,
    );
  });

  it('an XML feed parsed whole is held to PARSE_MAX_NODES', () => {
    const ctx = { timezone: 'UTC', limits };
    expect(parseXmlFeed(rss(20), {}, ctx).fetched).toBe(20);
    expect(() => parseXmlFeed(rss(40), {}, ctx)).toThrow(
      /XML document has more than 100 elements, over the parse limit PARSE_MAX_NODES/,
    );
  });
});
