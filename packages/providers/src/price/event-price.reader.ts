import { parsePriceText, type PriceAmount, type PriceReading } from './price-text.parser.ts';
import { quote } from './price-number.reader.ts';
import { formatCents, parsePriceCents } from './price.util.ts';

/** A price value as a payload holds it: text, or a JSON number (never read by a locale). */
export type PriceValue = string | number;

export interface EventPriceInput {
  /** Values of the `minPrice` and `maxPrice` fields: one pool, as a listing states prices. */
  minPrices?: readonly PriceValue[] | undefined;
  maxPrices?: readonly PriceValue[] | undefined;
  /** The source says the event is free: a known price of 0 when no value gives an amount. */
  free?: boolean | undefined;
}

export interface EventPrices {
  minPrice: string | null;
  maxPrice: string | null;
  /** The currency the price texts name, when they agree on one. */
  currency: string | null;
  /** Values that say no price, with why (shown per item by `providers test`). */
  warnings: string[];
}

/** A JSON number as cents, exactly as written in the payload (its shortest decimal form). */
function numberAmount(value: number): PriceAmount | { error: string } {
  const text = String(value);
  if (!Number.isFinite(value) || /e/i.test(text)) return { error: `${text} is not a price` };
  if (value < 0) return { error: 'negative price' };
  const parsed = parsePriceCents(text);
  return 'error' in parsed ? parsed : { cents: parsed.cents, bound: 'exact' };
}

function readValue(
  value: PriceValue,
  locale: string | undefined,
): PriceReading | { error: string } {
  if (typeof value === 'string') return parsePriceText(value, { locale });
  const amount = numberAmount(value);
  return 'error' in amount ? amount : { amounts: [amount], currency: null };
}

/**
 * The least and greatest price over every value. An open bound only counts at its own end
 * (`from 12 €` gives a min of 12 and no max); when a bound lies beyond the other end's amounts
 * (`12 €` beside `from 15 €`) that end is unknown rather than wrong.
 */
export function readEventPrices(input: EventPriceInput, locale?: string): EventPrices {
  const amounts: PriceAmount[] = [];
  const currencies = new Set<string>();
  const warnings: string[] = [];
  for (const value of [...(input.minPrices ?? []), ...(input.maxPrices ?? [])]) {
    const read = readValue(value, locale);
    if ('error' in read) {
      // One text read as both min and max (the same selector or path) is told once.
      const warning = `price ${quote(String(value))}: ${read.error}`;
      if (!warnings.includes(warning)) warnings.push(warning);
      continue;
    }
    amounts.push(...read.amounts);
    if (read.currency !== null) currencies.add(read.currency);
  }
  if (currencies.size > 1) {
    warnings.push(`prices in several currencies (${[...currencies].join(', ')}): price unknown`);
    return { minPrice: null, maxPrice: null, currency: null, warnings };
  }
  const currency = currencies.values().next().value ?? null;
  if (amounts.length === 0 && input.free === true) {
    return { minPrice: '0.00', maxPrice: '0.00', currency, warnings };
  }
  const min = least(amounts);
  const max = greatest(amounts);
  return {
    minPrice: min === null ? null : formatCents(min),
    maxPrice: max === null ? null : formatCents(max),
    currency,
    warnings,
  };
}

/** The least price: over amounts that are not "up to"; unknown when an "up to" is below it. */
function least(amounts: readonly PriceAmount[]): number | null {
  const own = amounts.filter((amount) => amount.bound !== 'upper').map((amount) => amount.cents);
  if (own.length === 0) return null;
  const value = Math.min(...own);
  return amounts.some((amount) => amount.bound === 'upper' && amount.cents < value) ? null : value;
}

/** The greatest price: over amounts that are not "from"; unknown when a "from" is above it. */
function greatest(amounts: readonly PriceAmount[]): number | null {
  const own = amounts.filter((amount) => amount.bound !== 'lower').map((amount) => amount.cents);
  if (own.length === 0) return null;
  const value = Math.max(...own);
  return amounts.some((amount) => amount.bound === 'lower' && amount.cents > value) ? null : value;
}
