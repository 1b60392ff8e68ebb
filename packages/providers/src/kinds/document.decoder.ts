import iconv from 'iconv-lite';

/**
 * Bytes of an XML or HTML document to text. A byte order mark wins; then UTF-16 without one,
 * recognised by the zero bytes of its first characters (XML 1.0 appendix F); then
 * bytes that are valid UTF-8 are read as UTF-8, whatever the document or the HTTP header
 * declares (a page declared ISO-8859-1 that is really UTF-8 is common, and so is a feed declared
 * `utf-16` by a generator that wrote a string, then sent it as UTF-8; the opposite is impossible
 * to miss: Latin-1 text is rarely valid UTF-8); then the declared charset (HTTP header, then the
 * document's own declaration); then windows-1252, which decodes any byte.
 */
export function decodeDocument(body: Buffer, contentType?: string): string {
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return utf8(body.subarray(3));
  if (body[0] === 0xff && body[1] === 0xfe) return iconv.decode(body.subarray(2), 'utf-16le');
  if (body[0] === 0xfe && body[1] === 0xff) return iconv.decode(body.subarray(2), 'utf-16be');
  const unmarked = unmarkedUtf16(body);
  if (unmarked !== undefined) return iconv.decode(body, unmarked);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    // Not UTF-8, whatever it says.
  }
  const declared = headerCharset(contentType) ?? documentCharset(body);
  if (declared !== undefined && !/^utf-?(8|16)/i.test(declared) && iconv.encodingExists(declared)) {
    return iconv.decode(body, declared);
  }
  return iconv.decode(body, 'windows-1252');
}

/**
 * UTF-16 without a byte order mark: its first two characters are ASCII (`<?`, `<r`, a newline),
 * so every other byte is zero, which a text in any 8-bit encoding never has.
 */
function unmarkedUtf16(body: Buffer): 'utf-16le' | 'utf-16be' | undefined {
  if (body.length < 4) return undefined;
  const [a, b, c, d] = body;
  if (a !== 0 && b === 0 && c !== 0 && d === 0) return 'utf-16le';
  if (a === 0 && b !== 0 && c === 0 && d !== 0) return 'utf-16be';
  return undefined;
}

function utf8(bytes: Buffer): string {
  return new TextDecoder('utf-8').decode(bytes);
}

function headerCharset(contentType: string | undefined): string | undefined {
  return contentType === undefined ? undefined : /charset="?([\w.:-]+)/i.exec(contentType)?.[1];
}

/** `<?xml … encoding="…"?>`, `<meta charset>` or `<meta http-equiv content="…charset=…">`. */
function documentCharset(body: Buffer): string | undefined {
  const head = body.subarray(0, 2048).toString('latin1');
  return (
    /<\?xml[^>]*\bencoding\s*=\s*["']([\w.:-]+)["']/i.exec(head)?.[1] ??
    /<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(head)?.[1]
  );
}

/** The content-type header of a fetched page, if any. */
export function contentTypeOf(
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  const value = headers['content-type'];
  return Array.isArray(value) ? value[0] : value;
}
