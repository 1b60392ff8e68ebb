// How prices name their currency: symbols and words before or after the amount. An ISO 4217 code
// counts in capitals (`EUR`, `DKK`); in lower case only the common ones do, so that words such as
// "all" or "top" (Albanian lek, Tongan paʻanga) are never read as currencies.

/** A currency symbol found in a price text. */
export interface CurrencyMark {
  /** ISO 4217 code; null when the mark does not say which country's currency it is (`kr`). */
  code: string | null;
  /** Characters of the text the mark took. */
  length: number;
}

// Longest first, so that "US$" is never read as "$".
const SYMBOLS = (
  [
    ['us$', 'USD'],
    ['u$s', 'USD'],
    ['ca$', 'CAD'],
    ['can$', 'CAD'],
    ['c$', 'CAD'],
    ['au$', 'AUD'],
    ['a$', 'AUD'],
    ['nz$', 'NZD'],
    ['hk$', 'HKD'],
    ['s$', 'SGD'],
    ['mx$', 'MXN'],
    ['r$', 'BRL'],
    ['cn¥', 'CNY'],
    ['€', 'EUR'],
    ['£', 'GBP'],
    ['¥', 'JPY'],
    ['₹', 'INR'],
    ['₩', 'KRW'],
    ['₺', 'TRY'],
    ['₽', 'RUB'],
    ['₪', 'ILS'],
    ['₫', 'VND'],
    ['₱', 'PHP'],
    ['฿', 'THB'],
    ['₴', 'UAH'],
    ['₦', 'NGN'],
    ['zł', 'PLN'],
    ['kč', 'CZK'],
    ['$', null],
  ] satisfies [string, string | null][]
).sort((a, b) => b[0].length - a[0].length);

// Words, matched whole and case-insensitively.
const WORDS: Readonly<Record<string, string | null>> = {
  euro: 'EUR',
  euros: 'EUR',
  eur: 'EUR',
  usd: 'USD',
  dollar: 'USD',
  dollars: 'USD',
  dolares: 'USD',
  dólares: 'USD',
  gbp: 'GBP',
  pound: 'GBP',
  pounds: 'GBP',
  libras: 'GBP',
  chf: 'CHF',
  'fr.': 'CHF',
  jpy: 'JPY',
  yen: 'JPY',
  dkk: 'DKK',
  sek: 'SEK',
  nok: 'NOK',
  pln: 'PLN',
  czk: 'CZK',
  kr: null,
  'kr.': null,
};

// `$` (dollars and pesos) and `kr` (crowns) name a currency only with the country: the price
// locale tells it ("en" and "en-US": USD, "es-AR": ARS, "da": DKK); without one it stays unknown.
const DOLLAR_REGIONS: Readonly<Record<string, string>> = {
  US: 'USD',
  CA: 'CAD',
  AU: 'AUD',
  NZ: 'NZD',
  MX: 'MXN',
  AR: 'ARS',
  CL: 'CLP',
  CO: 'COP',
  UY: 'UYU',
  HK: 'HKD',
  SG: 'SGD',
  TW: 'TWD',
};
const KRONE_LANGUAGES: Readonly<Record<string, string>> = {
  da: 'DKK',
  sv: 'SEK',
  nb: 'NOK',
  nn: 'NOK',
  no: 'NOK',
  is: 'ISK',
};

const ISO_CODES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

/**
 * The currency symbol that starts `window` (a few lower-cased characters from a token start), if
 * any. Symbols spelled with letters (`r$`, `zł`) are tried before words, so "us$" is no word "us".
 */
export function currencySymbolAt(window: string, locale?: Intl.Locale): CurrencyMark | undefined {
  for (const [symbol, code] of SYMBOLS) {
    if (window.startsWith(symbol))
      return { code: refine(symbol, code, locale), length: symbol.length };
  }
  return undefined;
}

/**
 * The currency a whole word names (`euros`, `EUR`, `kr.`), if any; `written` is the word as in
 * the text, since ISO codes count only in capitals.
 */
export function currencyWord(written: string, locale?: Intl.Locale): string | null | undefined {
  const word = written.toLowerCase();
  if (Object.hasOwn(WORDS, word)) return refine(word, WORDS[word] ?? null, locale);
  if (written.length === 3 && written === written.toUpperCase() && ISO_CODES.has(written)) {
    return written;
  }
  return undefined;
}

function refine(mark: string, code: string | null, locale: Intl.Locale | undefined): string | null {
  if (mark === '$') {
    const region = locale?.maximize().region;
    return region === undefined ? null : (DOLLAR_REGIONS[region] ?? null);
  }
  if (mark.startsWith('kr'))
    return locale === undefined ? null : (KRONE_LANGUAGES[locale.language] ?? null);
  return code;
}

/** Decimal places of a currency's minor unit: 3 for the Kuwaiti dinar, 0 for the yen. */
export function minorDigits(code: string): number {
  try {
    return (
      new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions()
        .maximumFractionDigits ?? 2
    );
  } catch {
    return 2;
  }
}
