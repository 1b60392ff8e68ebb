// Prices as people write them (docs/providers.md, "Prices"): each row is a price text, the price
// locale, what an event stores (min, max, currency; null = unknown) and where the text is from.
// "fixture:" texts are checked to be in that file of fixtures/real; "page:" texts are quoted from
// the pages listed in fixtures/prices/SOURCES.md; "issue" texts are the examples of issue 12.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { readEventPrices } from '../src/price/event-price.reader.ts';
import { parsePriceText } from '../src/price/price-text.parser.ts';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'real');
const fixture = (path: string) => readFileSync(join(fixtures, path), 'utf8');

type Stored = [min: string | null, max: string | null, currency: string | null];
type Row = [text: string, locale: string | undefined, stored: Stored, from: string];

const UNKNOWN: Stored = [null, null, null];
const TM = 'fixture:json/ticketmaster_discovery-v2_events_page0_nock-recording.json';
const BOARDDOCS = 'fixture:xml/boarddocs_cleveland-schools_meetings_large.xml';
const TICKETEA = 'page:ticketea.com';

/** Hostile texts that must store no price at all. */
const HOSTILE_NO_PRICE = [
  '99999999999999 €',
  '1e9',
  '1E+3 €',
  '--',
  '12,,5',
  '€€',
  '12.50.00',
  '\u202B١٢ €\u202C',
  '-5 €',
  'desde −5 €',
  '12 € / 15 $',
  '.50 €',
  '10%',
  '12 (+3)',
  '1_000',
  '21:00',
  'NaN',
  'Infinity €',
  '0x1F',
  '9'.repeat(5000),
  `${'1.'.repeat(3000)}5 €`,
];

const ROWS: Row[] = [
  // The examples of issue 12.
  ['1.250,00 €', undefined, ['1250.00', '1250.00', 'EUR'], 'issue'],
  ['1,250.00 USD', undefined, ['1250.00', '1250.00', 'USD'], 'issue'],
  ['12€ / 15€', undefined, ['12.00', '15.00', 'EUR'], 'issue'],
  ['12 - 15 €', undefined, ['12.00', '15.00', 'EUR'], 'issue'],
  ['Anticipada 12€ / Taquilla 15€', undefined, ['12.00', '15.00', 'EUR'], 'issue'],
  ['from 12 €', undefined, ['12.00', null, 'EUR'], 'issue'],
  ['desde 12 €', undefined, ['12.00', null, 'EUR'], 'issue'],
  ['a partir de 12 €', undefined, ['12.00', null, 'EUR'], 'issue'],
  ['Gratis', undefined, ['0.00', '0.00', null], 'issue'],
  ['Free', undefined, ['0.00', '0.00', null], 'issue'],
  ['Gratuït', undefined, ['0.00', '0.00', null], 'issue'],
  ['Entrada libre', undefined, ['0.00', '0.00', null], 'issue'],
  ['Consultar precio en taquilla', undefined, UNKNOWN, 'issue'],
  // Real pages.
  ['$99-$69', 'en', ['69.00', '99.00', 'USD'], TM],
  ['range from $69-$49', undefined, ['49.00', '69.00', null], TM],
  [
    'Limit of 8 VIP tickets per performance. Standard main floor seats range from $99-$69',
    undefined,
    UNKNOWN,
    TM,
  ],
  ['Kids under 2 get in free Everyone over 2 needs a ticket', undefined, UNKNOWN, TM],
  [
    'FREE with pre-registration - space limited  - Oct 2, 2024',
    undefined,
    UNKNOWN,
    'fixture:json/eventbrite_organizer-events_2024.json',
  ],
  [
    'Opret en gratis heavymetal.dk-profil og få:',
    undefined,
    UNKNOWN,
    'fixture:html/heavymetal-dk_koncertkalender_2025-12.html',
  ],
  ['$56,896.37', 'en-US', ['56896.37', '56896.37', 'USD'], BOARDDOCS],
  ['$10,866,965.00', undefined, ['10866965.00', '10866965.00', null], BOARDDOCS],
  ['$5,000,000', undefined, ['5000000.00', '5000000.00', null], BOARDDOCS],
  ['$339.150.00', undefined, UNKNOWN, BOARDDOCS],
  ['$6,450,527.00.00', undefined, UNKNOWN, BOARDDOCS],
  ['$96,00.00', undefined, UNKNOWN, BOARDDOCS],
  ['desde\n                  18,00 €', undefined, ['18.00', null, 'EUR'], TICKETEA],
  ['18,00', undefined, ['18.00', '18.00', null], TICKETEA],
  ['27,69', 'es', ['27.69', '27.69', null], TICKETEA],
  ['desde 59,50 €', 'es', ['59.50', null, 'EUR'], TICKETEA],
  ['$2.300.-', 'es-AR', ['2300.00', '2300.00', 'ARS'], 'page:passline'],
  ['$2.500.-', undefined, ['2500.00', '2500.00', null], 'page:passline'],
  ['Anticipada: 12€ o Taquilla: 15€', undefined, ['12.00', '15.00', 'EUR'], 'issue'],
  ['76.25 ?, 61.25 ? y 46.25 ?', undefined, ['46.25', '76.25', null], 'page:los40'],
  ['entre los 69 y los 255 euros', undefined, UNKNOWN, 'page:laopiniondemalaga'],
  [
    'A, con un precio de 35 euros; B, 30 euros, y C, 25 euros',
    undefined,
    ['25.00', '35.00', 'EUR'],
    'page:elheraldodelhenares',
  ],
  // Ambiguous separators: the locale decides; without one, three digits after one separator are thousands.
  ['1.250', 'es', ['1250.00', '1250.00', null], 'rule'],
  ['1.250', 'de', ['1250.00', '1250.00', null], 'rule'],
  ['1.250', 'en', ['1.25', '1.25', null], 'rule'],
  ['1,250', 'es', ['1.25', '1.25', null], 'rule'],
  ['1,250', 'en', ['1250.00', '1250.00', null], 'rule'],
  ['1.250 €', undefined, ['1250.00', '1250.00', 'EUR'], 'rule'],
  ['1.250', 'en_US', ['1250.00', '1250.00', null], 'rule'],
  ['1.250', 'xx', ['1250.00', '1250.00', null], 'rule'],
  ['1,250', undefined, ['1250.00', '1250.00', null], 'rule'],
  ['0.250', undefined, ['0.25', '0.25', null], 'rule'],
  ['1.250 KWD', undefined, ['1.25', '1.25', 'KWD'], 'rule'],
  ['12,5', 'en', ['12.50', '12.50', null], 'rule'],
  ["1'250.50 CHF", 'de-CH', ['1250.50', '1250.50', 'CHF'], 'rule'],
  ['1 250,50 €', 'fr', ['1250.50', '1250.50', 'EUR'], 'rule'],
  ['12,- €', 'de', ['12.00', '12.00', 'EUR'], 'rule'],
  ['1.234.567,891', undefined, ['1234567.89', '1234567.89', null], 'rule'],
  // Currencies before or after, as symbols, codes or words.
  ['US$ 25', undefined, ['25.00', '25.00', 'USD'], 'rule'],
  ['£12.50', undefined, ['12.50', '12.50', 'GBP'], 'rule'],
  ['¥1,500', undefined, ['1500.00', '1500.00', 'JPY'], 'rule'],
  ['EUR 20', undefined, ['20.00', '20.00', 'EUR'], 'rule'],
  ['20 eur', undefined, ['20.00', '20.00', 'EUR'], 'rule'],
  ['25 euros', 'es', ['25.00', '25.00', 'EUR'], 'rule'],
  ['$300', 'es-MX', ['300.00', '300.00', 'MXN'], 'rule'],
  ['$300', 'es', ['300.00', '300.00', null], 'rule'],
  ['$300', 'en', ['300.00', '300.00', 'USD'], 'rule'],
  ['250 kr.', 'da', ['250.00', '250.00', 'DKK'], 'rule'],
  ['250 kr.', undefined, ['250.00', '250.00', null], 'rule'],
  ['up to 20 €', undefined, [null, '20.00', 'EUR'], 'rule'],
  ['desde 12 hasta 30 €', undefined, ['12.00', '30.00', 'EUR'], 'rule'],
  ['Eintritt frei', undefined, ['0.00', '0.00', null], 'rule'],
  ['free parking', undefined, UNKNOWN, 'rule'],
  ['No es gratis', undefined, UNKNOWN, 'rule'],
  ['Free - 10 €', undefined, ['10.00', '10.00', 'EUR'], 'rule'],
  // Hostile.
  ...HOSTILE_NO_PRICE.map((text): Row => [text, undefined, UNKNOWN, 'hostile']),
  ['\u200F12 €\u200F', undefined, ['12.00', '12.00', 'EUR'], 'hostile'],
  ['1\u00A0250,00\u00A0€', undefined, ['1250.00', '1250.00', 'EUR'], 'hostile'],
  ['1\u2009250,00\u202F€', undefined, ['1250.00', '1250.00', 'EUR'], 'hostile'],
  ['１２ €', undefined, ['12.00', '12.00', 'EUR'], 'hostile'],
];

function stored(text: string, locale: string | undefined): Stored {
  const prices = readEventPrices({ minPrices: [text] }, locale);
  return [prices.minPrice, prices.maxPrice, prices.currency];
}

describe('price texts as people write them', () => {
  it.each(ROWS)('%j (%s)', (text, locale, expected) => {
    expect(stored(text, locale)).toEqual(expected);
  });

  it('every fixture text is in its real file', () => {
    for (const [text, , , from] of ROWS) {
      if (!from.startsWith('fixture:')) continue;
      const body = fixture(from.slice('fixture:'.length));
      expect(body.replace(/\s+/g, ' ')).toContain(text.replace(/\s+/g, ' '));
    }
  });

  it('reads every dollar amount of the BoardDocs feed exactly, or not at all', () => {
    const amounts = fixture('xml/boarddocs_cleveland-schools_meetings_large.xml').match(
      /\$\d[\d,.]*\d/g,
    );
    expect(amounts?.length).toBeGreaterThan(1000);
    for (const amount of new Set(amounts)) {
      const wellFormed = /^\$\d{1,3}(,\d{3})*(\.\d\d)?$/.test(amount);
      // The oracle: cents from the digits, by string, for amounts written the English way.
      const [whole = '', cents = '00'] = amount.slice(1).replace(/,/g, '').split('.');
      const expected = wellFormed ? `${whole}.${cents}` : null;
      expect([amount, stored(amount, undefined)[0]]).toEqual([amount, expected]);
    }
  });

  it('says why a text is no price', () => {
    expect(parsePriceText('Kids under 2 get in free')).toEqual({
      error: '"under" is not about a price',
    });
    expect(parsePriceText('12.50.00')).toEqual({ error: '"12.50.00" is not a number' });
    expect(parsePriceText('12 € / 15 $')).toEqual({
      error: 'prices in several currencies (EUR, $)',
    });
    expect(readEventPrices({ minPrices: ['Consultar'] }).warnings).toEqual([
      'price "Consultar": no amount',
    ]);
    // min and max read from the same text: one warning, not one per field.
    expect(
      readEventPrices({ minPrices: ['Consultar'], maxPrices: ['Consultar'] }).warnings,
    ).toEqual(['price "Consultar": no amount']);
  });
});

describe('prices of an event over its values', () => {
  it('pools every min and max value; an open bound only counts at its own end', () => {
    const read = (minPrices: (string | number)[], maxPrices: (string | number)[] = []) => {
      const prices = readEventPrices({ minPrices, maxPrices });
      return [prices.minPrice, prices.maxPrice];
    };
    expect(read(['from 12 €'], ['30 €'])).toEqual(['12.00', '30.00']);
    expect(read(['12 €', 'from 15 €'])).toEqual(['12.00', null]);
    expect(read(['up to 10 €', '15 €'])).toEqual([null, '15.00']);
    expect(read(['Gratis', '10 €'])).toEqual(['0.00', '10.00']);
  });

  it('reads JSON numbers exactly, never by the price locale', () => {
    const prices = readEventPrices({ minPrices: [12.345, 0.125, 1250] }, 'es');
    expect([prices.minPrice, prices.maxPrice]).toEqual(['0.13', '1250.00']);
    expect(readEventPrices({ minPrices: [1e21, -5, Number.NaN] })).toMatchObject({
      minPrice: null,
      warnings: [
        'price "1e+21": 1e+21 is not a price',
        'price "-5": negative price',
        'price "NaN": NaN is not a price',
      ],
    });
  });

  it('a known free event is 0 only without amounts', () => {
    expect(readEventPrices({ free: true })).toMatchObject({ minPrice: '0.00', maxPrice: '0.00' });
    expect(readEventPrices({ free: true, minPrices: ['8 €'] })).toMatchObject({
      minPrice: '8.00',
    });
  });

  it('amounts in several currencies are no price', () => {
    expect(readEventPrices({ minPrices: ['12 €'], maxPrices: ['£15'] })).toMatchObject({
      minPrice: null,
      maxPrice: null,
      currency: null,
    });
  });
});
