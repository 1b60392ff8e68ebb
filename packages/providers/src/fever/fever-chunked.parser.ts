import { isValidZone } from '../time/iana-zone.guard.ts';
import { isUtf8 } from 'node:buffer';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ParseResultBuilder } from '../kinds/parse-result.builder.ts';
import {
  attribute,
  children,
  decodeBody,
  feedRoot,
  FORMS,
  isNode,
  parseDocument,
  readItem,
  type FeedForm,
} from './fever.parser.ts';
import { FeverElementScanner } from './fever-element.scanner.ts';
import { PayloadError, type ParseContext, type ParseResult } from '../kinds/provider-kind.ts';
import type { ItemOutcome } from '../kinds/streaming-kind.ts';

// The Fever feed read one slice of base elements at a time, with the rules of fever.parser.ts.
//
// Parsing a 100k-event feed as one document held the payload as bytes, as a string and as an
// object tree at once (~830 MB RSS) and blocked the event loop for seconds, starving BullMQ's
// lock renewal. Here the payload stays one Buffer: a first pass finds the base elements by byte
// search and checks the document around them (a "skeleton" with each base element replaced by a
// placeholder) with the same parser; a second pass parses the base elements in slices of about
// `sliceBytes`, yielding to the event loop between slices.
//
// Equivalence with the whole-document parser: same items, values, order and rejects. A document
// the byte search cannot read with certainty (comments, CDATA, DOCTYPE, processing instructions
// past the declaration, a base element nested in another, an unclosed one) is handed to the
// whole-document parser instead, before any event is produced. A malformed slice throws the same
// PayloadError, only later: callers that write while parsing do it in a transaction.
//
// A slice is first read by FeverElementScanner (fever-element.scanner.ts), which gives the object
// fast-xml-parser would for a strict subset of XML (the one Fever feeds are written in), at a
// fraction of the CPU and garbage; a slice outside that subset (or malformed) goes through
// fast-xml-parser, which then produces its results, rejects and errors as before.

const WRAPPER = 'marquee-slice';
const PLACEHOLDER_INDEX = 'marquee-index';
const DEFAULT_SLICE_BYTES = 256 * 1024;

interface Layout {
  form: FeedForm;
  starts: number[];
  ends: number[];
  /** Indexes of the base elements the whole-document parser would read, in its order. */
  order: number[];
}

const isSpace = (byte: number | undefined) =>
  byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;

/** End (exclusive) of the start tag opened at `from`, quote-aware; -1 if it does not close. */
function startTagEnd(body: Buffer, from: number): number {
  let quote = 0;
  for (let i = from; i < body.length; i += 1) {
    const byte = body[i];
    if (quote !== 0) {
      if (byte === quote) quote = 0;
    } else if (byte === 0x22 || byte === 0x27) {
      quote = byte;
    } else if (byte === 0x3e) {
      return i + 1;
    } else if (byte === 0x3c) {
      return -1;
    }
  }
  return -1;
}

/** Whether body[from, to) is XML whitespace only. */
function isBlank(body: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i += 1) if (!isSpace(body[i])) return false;
  return true;
}

/** The base elements' byte ranges and the document around them, with a placeholder per run. */
interface Skeleton {
  starts: number[];
  ends: number[];
  /**
   * The document with each run of base elements (siblings with only whitespace between them)
   * replaced by one placeholder: parsing it costs the same for 1 base element or 100,000.
   */
  text: string;
  /** Per placeholder, the indexes of its first and last base element. */
  runs: { first: number; last: number }[];
}

/** Where the base elements are, by byte search; null when the search cannot be sure. */
function skeletonOf(body: Buffer, form: FeedForm, begin: number): Skeleton | null {
  const open = Buffer.from(`<${form.base}`);
  const close = Buffer.from(`</${form.base}`);
  const skeleton: Skeleton = { starts: [], ends: [], text: '', runs: [] };
  const pieces: string[] = [];
  let cursor = begin;
  let at = body.indexOf(open, cursor);
  while (at !== -1) {
    const after = body[at + open.length];
    if (!isSpace(after) && after !== 0x3e && after !== 0x2f) {
      at = body.indexOf(open, at + 1);
      continue;
    }
    const tagEnd = startTagEnd(body, at + open.length);
    if (tagEnd === -1) return null;
    let end = tagEnd;
    let next: number;
    if (body[tagEnd - 2] === 0x2f) {
      next = body.indexOf(open, end);
    } else {
      let closeAt = body.indexOf(close, tagEnd);
      while (closeAt !== -1) {
        const byte = body[closeAt + close.length];
        if (isSpace(byte) || byte === 0x3e) break;
        closeAt = body.indexOf(close, closeAt + 1);
      }
      if (closeAt === -1) return null;
      next = body.indexOf(open, tagEnd);
      // Another base element (or a longer name starting like one) inside: too unusual to slice.
      if (next !== -1 && next < closeAt) return null;
      const gt = body.indexOf(0x3e, closeAt);
      if (gt === -1) return null;
      end = gt + 1;
    }
    const run = skeleton.runs.at(-1);
    const index = skeleton.starts.length;
    if (run !== undefined && run.last === index - 1 && isBlank(body, cursor, at)) run.last = index;
    else {
      pieces.push(
        body.toString('utf8', cursor, at),
        `<${form.base} ${PLACEHOLDER_INDEX}="${skeleton.runs.length}"/>`,
      );
      skeleton.runs.push({ first: index, last: index });
    }
    skeleton.starts.push(at);
    skeleton.ends.push(end);
    cursor = end;
    at = next;
  }
  pieces.push(body.toString('utf8', cursor));
  skeleton.text = pieces.join('');
  return skeleton;
}

/** First pass: where the base elements are, or null when only the whole-document parser may read it. */
function layout(body: Buffer): Layout | null {
  const begin = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  if (body.indexOf('<!', begin) !== -1) return null;
  const instruction = body.indexOf('<?', begin);
  if (instruction !== -1) {
    const close = body.indexOf('?>', instruction);
    if (instruction !== begin || close === -1 || body.indexOf('<?', close) !== -1) return null;
  }
  const head = body.toString('utf8', begin, Math.min(body.length, begin + 4096));
  const rootName = /^[ \t\r\n]*(?:<\?[^]*?\?>)?[ \t\r\n]*<([^ \t\r\n/>]+)/.exec(head)?.[1];
  const form = FORMS.find((candidate) => candidate.root === rootName);
  if (!form) return null;
  const skeleton = skeletonOf(body, form, begin);
  if (!skeleton) return null;

  // The document around the base elements passes the same checks as a whole document would.
  const { root } = feedRoot(parseDocument(skeleton.text));
  const order: number[] = [];
  for (const output of children(root, 'output')) {
    for (const base of children(output, form.base)) {
      const run = skeleton.runs[Number(attribute(base, PLACEHOLDER_INDEX))];
      if (run === undefined) continue;
      for (let index = run.first; index <= run.last; index += 1) order.push(index);
    }
  }
  return { form, starts: skeleton.starts, ends: skeleton.ends, order };
}

function checkTimezone(ctx: ParseContext): void {
  if (!isValidZone(ctx.timezone)) {
    throw new RangeError(`invalid IANA timezone ${JSON.stringify(ctx.timezone)}`);
  }
}

function* wholeDocumentOutcomes(body: Buffer, ctx: ParseContext): Generator<ItemOutcome[]> {
  const { form, root } = feedRoot(parseDocument(decodeBody(body)));
  for (const output of children(root, 'output')) {
    for (const base of children(output, form.base)) {
      yield children(base, form.item).map((item) => readItem(form, base, item, ctx));
    }
  }
}

/** The wrapper element around the slice's base elements, as fast-xml-parser reads it. */
function parseSlice(body: Buffer, spans: readonly { start: number; end: number }[]): unknown {
  const parts: string[] = [`<${WRAPPER}>`];
  for (const { start, end } of spans) parts.push(body.toString('utf8', start, end));
  parts.push(`</${WRAPPER}>`);
  try {
    return parseDocument(parts.join(''))[WRAPPER];
  } catch (error) {
    if (!(error instanceof PayloadError)) throw error;
    throw new PayloadError(`${error.message}, in the slice from byte ${spans[0]?.start}`, {
      cause: error,
    });
  }
}

/**
 * The items of a Fever payload as outcomes, slice by slice, in document order; between slices the
 * event loop runs. Throws like `parseFeverXml` (RangeError, PayloadError). `scanner: false` sends
 * every slice through fast-xml-parser (tests and benchmarks compare the two paths).
 */
export async function* feverXmlOutcomes(
  body: Buffer,
  ctx: ParseContext,
  options: { sliceBytes?: number; scanner?: boolean } = {},
): AsyncGenerator<ItemOutcome[]> {
  checkTimezone(ctx);
  if (!isUtf8(body)) throw new PayloadError('payload is not valid UTF-8');
  const plan = layout(body);
  if (!plan) {
    yield* wholeDocumentOutcomes(body, ctx);
    return;
  }
  const { form, starts, ends, order } = plan;
  const sliceBytes = options.sliceBytes ?? DEFAULT_SLICE_BYTES;
  const scanner = options.scanner === false ? undefined : new FeverElementScanner(form);
  for (let k = 0; k < order.length;) {
    await nextTurn();
    const spans: { start: number; end: number }[] = [];
    let bytes = 0;
    while (k < order.length && (spans.length === 0 || bytes < sliceBytes)) {
      const index = order[k] ?? 0;
      const start = starts[index] ?? 0;
      const end = ends[index] ?? 0;
      spans.push({ start, end });
      bytes += end - start;
      k += 1;
    }
    const slice = scanner?.scanSlice(body, spans) ?? parseSlice(body, spans);
    const outcomes: ItemOutcome[] = [];
    for (const base of children(isNode(slice) ? slice : {}, form.base)) {
      for (const item of children(base, form.item)) outcomes.push(readItem(form, base, item, ctx));
    }
    yield outcomes;
  }
}

/** `parseFeverXml` through the chunked reader: the same ParseResult. */
export async function parseFeverXmlChunked(
  body: Buffer,
  ctx: ParseContext,
  options: { sliceBytes?: number; scanner?: boolean } = {},
): Promise<ParseResult> {
  const result = new ParseResultBuilder();
  for await (const outcomes of feverXmlOutcomes(body, ctx, options)) {
    for (const outcome of outcomes) result.add(outcome);
  }
  return result.build();
}
