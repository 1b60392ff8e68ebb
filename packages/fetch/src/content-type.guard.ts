import { FetchError } from './http.fetcher.ts';

/** What a kind's documents are. */
export type ContentFamily = 'xml' | 'json' | 'html';

const BINARY = /^(?:image|audio|video|font)\/|^application\/(?:pdf|zip|gzip|x-tar)$/;

/**
 * Media types that cannot be a document of `family`. Lenient on purpose: a missing header,
 * application/octet-stream and text/plain pass (many feeds are served that way), and so does any
 * +xml / +json suffix of the right family.
 */
function isRefused(family: ContentFamily, mediaType: string): boolean {
  if (BINARY.test(mediaType)) return true;
  const isHtml = mediaType === 'text/html' || mediaType === 'application/xhtml+xml';
  const isJson = mediaType === 'application/json' || mediaType.endsWith('+json');
  const isXml = /[/+]xml$/.test(mediaType) && !isHtml;
  switch (family) {
    case 'xml':
      return isHtml || isJson;
    case 'json':
      return isHtml || isXml;
    case 'html':
      return isJson;
  }
}

/**
 * Throws a permanent FetchError when the response's Content-Type cannot be a document of
 * `family` (an HTML error or login page served with 200 where a feed was expected).
 */
export function assertContentType(
  family: ContentFamily,
  contentType: string | string[] | undefined,
  url: string,
): void {
  const header = Array.isArray(contentType) ? contentType[0] : contentType;
  const mediaType = header?.split(';')[0]?.trim().toLowerCase();
  if (!mediaType || !isRefused(family, mediaType)) return;
  throw new FetchError(
    `unexpected content type ${mediaType} from ${url}: expected ${family === 'xml' ? 'an XML' : family === 'json' ? 'a JSON' : 'an HTML'} document`,
    'permanent',
  );
}
