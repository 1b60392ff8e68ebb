import { PayloadError } from './provider-kind.ts';

/**
 * Bounds on what one document may cost to parse into a tree (a cheerio DOM, a fast-xml-parser
 * object). A tree costs far more than its text: cheerio's default parser (parse5) keeps about
 * 650 bytes per node, so a 4 MB page of tiny nested elements (~520,000 nodes) needs more than a
 * 256 MB heap (docs/reliability.md has the measurements). Counting start tags before parsing
 * costs a scan of the text and allocates nothing.
 */
export interface ParseLimits {
  /** PARSE_MAX_HTML_MB, in bytes: the largest HTML page parsed. */
  htmlMaxBytes: number;
  /** PARSE_MAX_NODES: the most elements (start tags) in one HTML page or whole XML document. */
  maxNodes: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = {
  htmlMaxBytes: 10 * 1024 * 1024,
  maxNodes: 100_000,
};

/** A document over a parse limit: a permanent failure whose message names the limit. */
export class ParseLimitError extends PayloadError {}

function isLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/**
 * Throws ParseLimitError when `text` has more than `maxNodes` start tags ("<" then a letter; in
 * scripts such pairs count too, an over-estimate on the safe side). Stops counting at the limit.
 */
function assertNodeCount(text: string, what: string, maxNodes: number): void {
  let count = 0;
  for (let at = text.indexOf('<'); at !== -1; at = text.indexOf('<', at + 1)) {
    if (!isLetter(text.charCodeAt(at + 1))) continue;
    count += 1;
    if (count > maxNodes) {
      throw new ParseLimitError(
        `${what} has more than ${maxNodes} elements, over the parse limit PARSE_MAX_NODES; not parsed`,
      );
    }
  }
}

/** An HTML page's bytes (before decoding) and elements within `limits`, else ParseLimitError. */
export function assertHtmlWithinLimits(
  body: Buffer,
  text: () => string,
  limits: ParseLimits,
): void {
  if (body.length > limits.htmlMaxBytes) {
    const mb = (limits.htmlMaxBytes / 1024 / 1024).toFixed(1).replace(/\.0$/, '');
    throw new ParseLimitError(
      `HTML page of ${body.length} bytes is over the parse limit PARSE_MAX_HTML_MB (${mb} MB); not parsed`,
    );
  }
  assertNodeCount(text(), 'HTML page', limits.maxNodes);
}

/** An XML document parsed whole has at most `limits.maxNodes` elements, else ParseLimitError. */
export function assertXmlWithinLimits(text: string, limits: ParseLimits): void {
  assertNodeCount(text, 'XML document', limits.maxNodes);
}
