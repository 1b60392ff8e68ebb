import type { FeedForm, XmlNode } from './fever.parser.ts';
import { decodeXmlEntities } from '../xml/xml-entity.decoder.ts';

// A purpose-built reader for the base elements of a Fever feed: what fast-xml-parser (with the
// options of fever.parser.ts) returns for `<wrapper>` + the elements + `</wrapper>`, without the
// validator pass, the intermediate strings and the object churn of a general XML parser.
//
// It reads a strict subset and answers `undefined` for anything else (it never throws), so the
// caller hands that slice to fast-xml-parser and results, rejects and errors stay those of
// fast-xml-parser by construction. The subset, in which the Fever fixtures and the benchmark's
// generated feeds are written:
//   - `<base>` holds `<item>` elements, `<item>` holds `<zone>` elements, `<zone>` holds nothing
//     (base/item are base_event/event or base_plan/plan); each is self-closing or closed by
//     `</name>` (spaces allowed before the `>`);
//   - attributes are ASCII names, `=` (spaces allowed around it) and a single- or double-quoted
//     value, separated by spaces; no name twice in one element;
//   - a value holds no `<`, no carriage return (fast-xml-parser rewrites CR LF and CR to LF) and
//     no `&` but `&amp; &lt; &gt; &quot; &apos;` or a character reference to a valid code point
//     (`&#N;` up to 7 digits, `&#xH;` up to 6), exactly the references decodeXmlEntities decodes;
//   - between tags, XML whitespace only (space, tab, CR, LF): no text, comments, CDATA or PIs.
// Inside it the value is fast-xml-parser's: the raw value, trimmed (String#trim), then decoded.
// An element with neither attributes nor children is "", as fast-xml-parser gives it; children
// are arrays (fever.parser.ts declares base, item and zone as repeated).

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const HASH = 0x23;
const AMP = 0x26;
const APOS = 0x27;
const SLASH = 0x2f;
const SEMICOLON = 0x3b;
const LT = 0x3c;
const EQUALS = 0x3d;
const GT = 0x3e;
const LOWER_X = 0x78;

const NAME_START = 1;
const NAME_CHAR = 2;
/** ASCII characters of attribute names: a subset of fast-xml-parser's `isName`. */
const NAME_CLASS = new Uint8Array(256);
for (let c = 0; c < 128; c += 1) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z_:]/.test(ch)) NAME_CLASS[c] = NAME_START | NAME_CHAR;
  else if (/[0-9.-]/.test(ch)) NAME_CLASS[c] = NAME_CHAR;
}

/** Hex digit values; 255 for anything else. */
const HEX = new Uint8Array(256).fill(255);
for (let c = 0; c < 16; c += 1) {
  HEX[c.toString(16).charCodeAt(0)] = c;
  HEX[c.toString(16).toUpperCase().charCodeAt(0)] = c;
}

const NAMED_REFERENCES = ['amp;', 'lt;', 'gt;', 'quot;', 'apos;'].map((name) => Buffer.from(name));

const isSpace = (byte: number | undefined) =>
  byte === SPACE || byte === LF || byte === TAB || byte === CR;

/** The value's flags while it is read. */
const HAS_REFERENCE = 1;
const NON_ASCII = 2;

/** Attribute names remembered per element level and position, so keys are not rebuilt each time. */
const KEY_CACHE_SLOTS = 32;

type ElementValue = XmlNode | '';

export class FeverElementScanner {
  /** Element names by level: base, item, zone. */
  private readonly names: readonly Buffer[];
  /** Property holding the children of a level's element (none for zones). */
  private readonly childNames: readonly string[];
  private readonly keyCache: { bytes: Buffer; key: string }[][] = [[], [], []];
  private body: Buffer = Buffer.alloc(0);
  /** Cursor; each reader leaves it just past what it read. */
  private pos = 0;
  /** End (exclusive) of the element being read: nothing is read far past it. */
  private end = 0;

  constructor(private readonly form: FeedForm) {
    this.names = [form.base, form.item, 'zone'].map((name) => Buffer.from(name));
    this.childNames = [form.item, 'zone'];
  }

  /**
   * fast-xml-parser's object for the wrapper element around these base elements (byte ranges of
   * `body`, each exactly one `<base …>…</base>` or `<base …/>`), or undefined when one of them is
   * outside the subset.
   */
  scanSlice(body: Buffer, spans: readonly { start: number; end: number }[]): XmlNode | undefined {
    this.body = body;
    const bases: ElementValue[] = [];
    for (const { start, end } of spans) {
      this.pos = start;
      this.end = end;
      const base = body[start] === LT ? this.element(0) : undefined;
      if (base === undefined || this.pos !== end) return undefined;
      bases.push(base);
    }
    return { [this.form.base]: bases };
  }

  /** The element at `pos` (its `<`), of level 0 (base), 1 (item) or 2 (zone). */
  private element(level: number): ElementValue | undefined {
    const body = this.body;
    const name = this.names[level] as Buffer;
    let i = this.pos + 1;
    for (let n = 0; n < name.length; n += 1, i += 1) {
      if (body[i] !== name[n]) return undefined;
    }
    let node: XmlNode | undefined;
    let index = 0;
    // Attributes, up to the end of the start tag.
    for (;;) {
      let byte = body[i];
      const spaced = isSpace(byte);
      while (isSpace(byte)) byte = body[++i];
      if (byte === GT) {
        i += 1;
        break;
      }
      if (byte === SLASH) {
        if (body[i + 1] !== GT) return undefined;
        this.pos = i + 2;
        return node ?? '';
      }
      // A name glued to the previous value (or to the element name) is not in the subset.
      if (!spaced || (NAME_CLASS[byte ?? 0]! & NAME_START) === 0) return undefined;
      const nameStart = i;
      do byte = body[++i];
      while ((NAME_CLASS[byte ?? 0]! & NAME_CHAR) !== 0);
      const nameEnd = i;
      while (isSpace(byte)) byte = body[++i];
      if (byte !== EQUALS) return undefined;
      byte = body[++i];
      while (isSpace(byte)) byte = body[++i];
      if (byte !== QUOTE && byte !== APOS) return undefined;
      const quote = byte;
      const valueStart = ++i;
      let flags = 0;
      for (;;) {
        byte = body[i];
        if (byte === quote) break;
        if (byte === undefined || byte === LT || byte === CR || i >= this.end) return undefined;
        if (byte === AMP) {
          i = this.reference(i);
          if (i === -1) return undefined;
          flags |= HAS_REFERENCE;
        } else {
          if (byte >= 0x80) flags |= NON_ASCII;
          i += 1;
        }
      }
      const key = this.key(level, index, nameStart, nameEnd);
      index += 1;
      node ??= {};
      if (node[key] !== undefined) return undefined;
      node[key] = this.value(valueStart, i, flags);
      i += 1;
    }
    return this.content(level, i, node);
  }

  /**
   * The content of a level's element from `start` (just past its start tag): whitespace and child
   * elements up to its end tag; `node` holds its attributes, if any. element() is split here and
   * not in its attribute loop: moving the value loop into a method of its own made the scanner
   * about 20% slower (paired runs over the benchmark's 100,000-event feed).
   */
  private content(
    level: number,
    start: number,
    node: XmlNode | undefined,
  ): ElementValue | undefined {
    const body = this.body;
    const name = this.names[level] as Buffer;
    let i = start;
    for (;;) {
      let byte = body[i];
      while (isSpace(byte)) byte = body[++i];
      if (byte !== LT || i >= this.end) return undefined;
      if (body[i + 1] === SLASH) {
        i += 2;
        for (let n = 0; n < name.length; n += 1, i += 1) {
          if (body[i] !== name[n]) return undefined;
        }
        byte = body[i];
        while (isSpace(byte)) byte = body[++i];
        if (byte !== GT) return undefined;
        this.pos = i + 1;
        return node ?? '';
      }
      const childName = this.childNames[level];
      if (childName === undefined) return undefined;
      this.pos = i;
      const child = this.element(level + 1);
      if (child === undefined) return undefined;
      i = this.pos;
      node ??= {};
      const list = node[childName] as ElementValue[] | undefined;
      if (list === undefined) node[childName] = [child];
      else list.push(child);
    }
  }

  /** Index just past the reference starting at `at` (its `&`), or -1 when it is not in the subset. */
  private reference(at: number): number {
    const body = this.body;
    if (body[at + 1] === HASH) {
      const hex = body[at + 2] === LOWER_X;
      const digitsStart = hex ? at + 3 : at + 2;
      const base = hex ? 16 : 10;
      let codePoint = 0;
      let i = digitsStart;
      for (; i - digitsStart < 8; i += 1) {
        const digit = HEX[body[i] ?? 0]!;
        if (digit >= base) break;
        codePoint = codePoint * base + digit;
      }
      const digits = i - digitsStart;
      if (digits === 0 || digits > (hex ? 6 : 7) || body[i] !== SEMICOLON) return -1;
      const valid =
        codePoint > 0 && codePoint <= 0x10ffff && (codePoint < 0xd800 || codePoint > 0xdfff);
      return valid ? i + 1 : -1;
    }
    for (const name of NAMED_REFERENCES) {
      let n = 0;
      while (n < name.length && body[at + 1 + n] === name[n]) n += 1;
      if (n === name.length) return at + 1 + n;
    }
    return -1;
  }

  /** `@_name` for the attribute name at [start, end), reused while names repeat by position. */
  private key(level: number, index: number, start: number, end: number): string {
    const body = this.body;
    const slots = this.keyCache[level] as { bytes: Buffer; key: string }[];
    const cached = slots[index];
    if (cached !== undefined && cached.bytes.length === end - start) {
      let n = 0;
      while (n < cached.bytes.length && cached.bytes[n] === body[start + n]) n += 1;
      if (n === cached.bytes.length) return cached.key;
    }
    const key = `@_${body.toString('latin1', start, end)}`;
    if (index < KEY_CACHE_SLOTS)
      slots[index] = { bytes: Buffer.from(body.subarray(start, end)), key };
    return key;
  }

  private value(start: number, end: number, flags: number): string {
    const text = this.body.toString((flags & NON_ASCII) === 0 ? 'latin1' : 'utf8', start, end);
    const trimmed = text.trim();
    return (flags & HAS_REFERENCE) === 0 ? trimmed : decodeXmlEntities(trimmed);
  }
}
