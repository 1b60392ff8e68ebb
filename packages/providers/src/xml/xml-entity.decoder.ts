// The XML decoding shared by the Fever reader, its element scanner and the xml-feed kind.

const XML_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
};
const ENTITY_REFERENCE = /&(?:#x([0-9a-fA-F]{1,6})|#([0-9]{1,7})|([A-Za-z_][\w.-]*));/g;

/**
 * The five predefined entities and character references to valid code points; anything else
 * (DOCTYPE entities included: never expanded) stays as written.
 */
export function decodeXmlEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(
    ENTITY_REFERENCE,
    (reference, hex?: string, decimal?: string, name?: string) => {
      if (name !== undefined) return XML_ENTITIES[name] ?? reference;
      const codePoint = hex !== undefined ? parseInt(hex, 16) : Number(decimal);
      const valid =
        codePoint > 0 && codePoint <= 0x10ffff && (codePoint < 0xd800 || codePoint > 0xdfff);
      return valid ? String.fromCodePoint(codePoint) : reference;
    },
  );
}
