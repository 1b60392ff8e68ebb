import { PayloadError } from '../kinds/provider-kind.ts';

/**
 * Limits every XML kind applies. Entities declared in a DOCTYPE are never expanded by our parsers,
 * but a document that declares them is refused outright: unexpanded references ("&lol9;") would
 * otherwise end up as text in stored events, and such a document is an attack or a broken feed.
 */
const XML_MAX_DEPTH = 64;

/** Spread into fast-xml-parser's XMLParser options. */
export const XML_PARSER_LIMITS = { maxNestedTags: XML_MAX_DEPTH } as const;

const FIRST_ELEMENT = /<[A-Za-z_:]/;
const DOCTYPE_WITH_DECLARATIONS = /<!DOCTYPE[^>[]*(?:\[|\bSYSTEM\b|\bPUBLIC\b)/i;

/**
 * Throws PayloadError when the prolog has a DOCTYPE with an internal subset (entity declarations)
 * or an external identifier. A bare `<!DOCTYPE root>` passes.
 */
export function assertNoDoctypeDeclarations(text: string): void {
  const end = text.search(FIRST_ELEMENT);
  const prolog = end === -1 ? text : text.slice(0, end);
  if (DOCTYPE_WITH_DECLARATIONS.test(prolog) || /<!ENTITY/i.test(prolog)) {
    throw new PayloadError(
      'payload declares a DOCTYPE with entities or an external DTD; refused (XML entity limit)',
    );
  }
}
