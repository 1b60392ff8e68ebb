import { currencySymbolAt, currencyWord } from './currency.marks.ts';
import { decimalSeparatorOf, NUMBER_RUN, quote, readNumberRun } from './price-number.reader.ts';
import {
  FREE_AFTER,
  FREE_WORDS,
  LOWER_BOUND,
  PRICE_WORDS,
  RANGE_WORDS,
  UPPER_BOUND,
} from './price.words.ts';

/**
 * Whether an amount is a price, the least price (`from 12 €`, `desde 12 €`) or the greatest one
 * (`up to 20 €`, `hasta 20 €`): an open bound says nothing about the other end.
 */
type PriceBound = 'exact' | 'lower' | 'upper';

export interface PriceAmount {
  cents: number;
  bound: PriceBound;
}

export interface PriceReading {
  amounts: PriceAmount[];
  /** ISO 4217 code the text names (`€`, `EUR`, `US$`…); null when it names none. */
  currency: string | null;
}

/** A price text read, or why it says no price: unknown, never a guess. */
export type PriceTextResult = PriceReading | { error: string };

export interface PriceTextOptions {
  /** BCP 47 locale whose decimal separator settles `1.250` / `1,250` (e.g. "es", "en", "de-CH"). */
  locale?: string | undefined;
}

type Token =
  | { type: 'number'; run: string; start: number; end: number }
  | { type: 'currency'; code: string | null; mark: string; start: number; end: number }
  | { type: 'word'; word: string; start: number; end: number }
  | { type: 'separator'; char: string; start: number; end: number }
  | { type: 'other'; char: string; start: number; end: number };

// Bidirectional and zero-width marks and soft hyphens: invisible, never part of a price.
const INVISIBLE = /[\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/g;
const SCIENTIFIC = /\d[eE][+-]?\d/;
const WORD = /[\p{L}\p{M}]+/uy;
const WHOLE_AMOUNT_DASH = /[.,][-–—]+/y;
const SEPARATORS = '-–—−/|';
// Punctuation that may touch an amount ("Precio:12€", "(12 €)"); any other character touching one
// ("10%", "+3", "1_000", "#2") says it is no price.
const TOUCHING = '():;,.!?"\'*[]';

/**
 * Reads a price the way people write it: `1.250,00 €`, `1,250.00 USD`, `12€ / 15€`,
 * `12 - 15 €`, `Anticipada 12€ / Taquilla 15€`, `from 12 €`, `Gratis`. Rules (docs/providers.md,
 * "Prices"): in a text that names a currency, only amounts next to a currency mark count (and a
 * bare amount ranged with one: the `12` of `12 - 15 €`); a text without a currency may hold only
 * amounts and price words. Anything else, a malformed number or a mix of currencies is unknown.
 */
export function parsePriceText(text: string, options: PriceTextOptions = {}): PriceTextResult {
  const prepared = text.normalize('NFKC').replace(INVISIBLE, '').replace(/\s+/g, ' ').trim();
  if (SCIENTIFIC.test(prepared)) return { error: 'scientific notation is not a price' };
  const locale = knownLocale(options.locale);
  const tokens = tokenize(prepared, locale);
  const numbers = tokens.flatMap((token, index) => (token.type === 'number' ? [index] : []));
  if (numbers.length === 0) return freeReading(tokens) ?? { error: 'no amount' };
  const touching = numbers.map((index) => touchingProblem(tokens, index)).find(Boolean);
  if (touching !== undefined) return { error: touching };
  const marks = numbers.map((index) => markOf(tokens, index));
  const named = currencyOf(marks);
  if ('error' in named) return named;
  const { currency } = named;
  const problem = marks.some((mark) => mark !== undefined)
    ? unmarkedAmount(tokens, numbers, marks)
    : strayWord(tokens);
  if (problem !== undefined) return { error: problem };
  const decimal = locale === undefined ? undefined : decimalSeparatorOf(locale.baseName);
  const amounts: PriceAmount[] = [];
  for (const index of numbers) {
    if (isNegative(tokens, index)) return { error: 'negative price' };
    const token = tokens[index] as Extract<Token, { type: 'number' }>;
    const read = readNumberRun(token.run, { decimal, currency });
    if ('error' in read) return read;
    amounts.push({ cents: read.cents, bound: boundOf(tokens, index) });
  }
  return { amounts, currency };
}

/**
 * The one currency the amounts' marks name (null: none, or a mark of unknown country such as
 * `$`), or an error when they name two: a `$` differs from every code, so `12 € / 15 $` is two.
 */
function currencyOf(
  marks: readonly (CurrencyToken | undefined)[],
): { currency: string | null } | { error: string } {
  const named = new Set(
    marks.flatMap((mark) => (mark === undefined ? [] : [mark.code ?? mark.mark])),
  );
  if (named.size > 1) return { error: `prices in several currencies (${[...named].join(', ')})` };
  return { currency: marks.find((mark) => mark !== undefined)?.code ?? null };
}

const locales = new Map<string, Intl.Locale | undefined>();

/**
 * The locale of a tag Node knows, else undefined: the price locale is validated with the config,
 * but the `locale` it defaults to is not, and a tag like "en_US" must not fail a whole sync.
 */
function knownLocale(tag: string | undefined): Intl.Locale | undefined {
  if (tag === undefined) return undefined;
  if (!locales.has(tag)) {
    let locale: Intl.Locale | undefined;
    try {
      locale =
        Intl.NumberFormat.supportedLocalesOf(tag).length === 1 ? new Intl.Locale(tag) : undefined;
    } catch {
      locale = undefined;
    }
    locales.set(tag, locale);
  }
  return locales.get(tag);
}

function tokenize(text: string, locale: Intl.Locale | undefined): Token[] {
  const tokens: Token[] = [];
  for (let start = 0; start < text.length;) {
    if (text[start] === ' ') {
      start += 1;
      continue;
    }
    const token = tokenAt(text, start, locale);
    tokens.push(token);
    start = token.end;
  }
  return tokens;
}

function tokenAt(text: string, start: number, locale: Intl.Locale | undefined): Token {
  NUMBER_RUN.lastIndex = start;
  const number = NUMBER_RUN.exec(text)?.[0];
  if (number !== undefined) {
    // "12,-" and "12.–" are whole amounts (German and Swiss price tags).
    WHOLE_AMOUNT_DASH.lastIndex = start + number.length;
    const dash = WHOLE_AMOUNT_DASH.exec(text)?.[0] ?? '';
    return { type: 'number', run: number, start, end: start + number.length + dash.length };
  }
  const symbol = currencySymbolAt(text.slice(start, start + 4).toLowerCase(), locale);
  if (symbol !== undefined) {
    const end = start + symbol.length;
    return { type: 'currency', code: symbol.code, mark: text.slice(start, end), start, end };
  }
  WORD.lastIndex = start;
  const word = WORD.exec(text)?.[0];
  if (word !== undefined) {
    const dotted = text[start + word.length] === '.' ? currencyWord(`${word}.`, locale) : undefined;
    const mark = fold(word);
    if (dotted !== undefined) {
      return { type: 'currency', code: dotted, mark, start, end: start + word.length + 1 };
    }
    const code = currencyWord(word, locale);
    const end = start + word.length;
    if (code !== undefined) return { type: 'currency', code, mark, start, end };
    return { type: 'word', word: fold(word), start, end };
  }
  const char = text.charAt(start);
  const type = SEPARATORS.includes(char) ? 'separator' : 'other';
  return { type, char, start, end: start + 1 };
}

/** Lower case without accents: "Gratuït" → "gratuit", "dès" → "des". */
function fold(word: string): string {
  return word
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

type CurrencyToken = Extract<Token, { type: 'currency' }>;

/**
 * The currency mark of the amount at `index`: one touching it wins over one a space away, the
 * one after over the one before (`12 € 15 €`). Undefined: no mark.
 */
function markOf(tokens: readonly Token[], index: number): CurrencyToken | undefined {
  const number = tokens[index];
  const before = tokens[index - 1];
  const after = tokens[index + 1];
  const candidates = [
    after?.type === 'currency' && after.start === number?.end ? after : undefined,
    before?.type === 'currency' && before.end === number?.start ? before : undefined,
    after?.type === 'currency' ? after : undefined,
    before?.type === 'currency' ? before : undefined,
  ];
  return candidates.find((candidate) => candidate !== undefined);
}

function isRangeLink(token: Token | undefined): boolean {
  return (
    (token?.type === 'separator' && token.char !== '−') ||
    (token?.type === 'word' && RANGE_WORDS.has(token.word))
  );
}

/** The amount ranged with the one at `index` on one side (`12 - 15 €`, `€12 - 15`), if any. */
function rangedWith(tokens: readonly Token[], index: number, step: 1 | -1): number | undefined {
  if (!isRangeLink(tokens[index + step])) return undefined;
  let next = index + 2 * step;
  if (tokens[next]?.type === 'currency') next += step;
  return tokens[next]?.type === 'number' ? next : undefined;
}

/** In a text with currencies, a bare amount must be ranged with a marked one. */
function unmarkedAmount(
  tokens: readonly Token[],
  numbers: readonly number[],
  marks: readonly (CurrencyToken | undefined)[],
): string | undefined {
  const marked = new Set(numbers.filter((_index, position) => marks[position] !== undefined));
  for (const index of numbers) {
    if (marked.has(index)) continue;
    const partners = [rangedWith(tokens, index, 1), rangedWith(tokens, index, -1)];
    if (partners.some((partner) => partner !== undefined && marked.has(partner))) continue;
    const token = tokens[index] as Extract<Token, { type: 'number' }>;
    return `${quote(token.run)} has no currency while other amounts do`;
  }
  return undefined;
}

/** In a text without a currency, every word must be about the price. */
function strayWord(tokens: readonly Token[]): string | undefined {
  const stray = tokens.find(
    (token) =>
      token.type === 'word' &&
      !PRICE_WORDS.has(token.word) &&
      !RANGE_WORDS.has(token.word) &&
      !FREE_WORDS.has(token.word),
  );
  return stray?.type === 'word' ? `${quote(stray.word)} is not about a price` : undefined;
}

/**
 * A minus touching the amount (`-5 €`, `desde -5`, `€-5`) is a sign, unless an amount comes
 * before it (`12-15`, `12€-15€`: a range); `−` (U+2212) is always a sign.
 */
function isNegative(tokens: readonly Token[], index: number): boolean {
  let sign = index - 1;
  if (tokens[sign]?.type === 'currency' && tokens[sign]?.end === tokens[index]?.start) sign -= 1;
  const token = tokens[sign];
  if (token?.type !== 'separator' || !'-−'.includes(token.char)) return false;
  if (token.end !== tokens[sign + 1]?.start) return false;
  const previous = tokens[sign - 1]?.type;
  const amountBefore =
    previous === 'number' || (previous === 'currency' && tokens[sign - 2]?.type === 'number');
  return token.char === '−' || !amountBefore;
}

/** `from 12 €` is a least price, `up to 20 €` a greatest one, unless the amount opens a range. */
function boundOf(tokens: readonly Token[], index: number): PriceBound {
  if (rangedWith(tokens, index, 1) !== undefined) return 'exact';
  const words: string[] = [];
  for (let at = index - 1; at >= 0 && words.length < 3; at -= 1) {
    const token = tokens[at];
    if (token?.type === 'word') words.unshift(token.word);
    else if (token?.type !== 'currency' && token?.type !== 'other') break;
  }
  const phrase = ` ${words.join(' ')}`;
  if (LOWER_BOUND.some((bound) => phrase.endsWith(` ${bound}`))) return 'lower';
  if (UPPER_BOUND.some((bound) => phrase.endsWith(` ${bound}`))) return 'upper';
  return 'exact';
}

/** A text without amounts that says the event is free (`Gratis`, `Entrada libre`, `Free entry`). */
function freeReading(tokens: readonly Token[]): PriceReading | undefined {
  const words = tokens.flatMap((token) => (token.type === 'word' ? [token.word] : []));
  const free = words.some(
    (word, at) => FREE_WORDS.has(word) || FREE_AFTER.get(word)?.has(words[at - 1] ?? '') === true,
  );
  if (!free || strayWord(tokens) !== undefined) return undefined;
  return { amounts: [{ cents: 0, bound: 'exact' }], currency: null };
}

/** Characters touching an amount that make it no price: `10%`, `+3`, `.50`, `21:00`. */
function touchingProblem(tokens: readonly Token[], index: number): string | undefined {
  const number = tokens[index] as Extract<Token, { type: 'number' }>;
  const before = tokens[index - 1];
  const after = tokens[index + 1];
  const touchesBefore = before?.type === 'other' && before.end === number.start;
  const touchesAfter = after?.type === 'other' && after.start === number.end;
  if (touchesBefore && (before.char === '.' || before.char === ',')) {
    return `${quote(before.char + number.run)} is not a number`;
  }
  for (const [touches, token] of [
    [touchesBefore, before],
    [touchesAfter, after],
  ] as const) {
    if (touches && token?.type === 'other' && !TOUCHING.includes(token.char)) {
      return `${quote(token.char)} next to the amount ${quote(number.run)}`;
    }
  }
  const next = tokens[index + 2];
  if (touchesAfter && after.char === ':' && next?.type === 'number' && next.start === after.end) {
    return 'a time is not a price';
  }
  return undefined;
}
