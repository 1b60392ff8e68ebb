// Prices are handled as whole cents so that no float ever touches them: "0.1" + "0.2" stays exact
// and the strings written to Postgres are exactly what the feed said, rounded to 2 decimals.

/** Largest price the events table stores: numeric(12, 2). */
const MAX_CENTS = 999_999_999_999;

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

export type PriceParse = { cents: number } | { error: string };

/**
 * A non-negative decimal ("20", "20.5", "020.50") as cents, rounded half-up to 2 decimals.
 * Signs, exponents, thousands separators and empty strings are not prices.
 */
export function parsePriceCents(text: string): PriceParse {
  const match = DECIMAL.exec(text);
  if (!match) {
    return { error: /^-\d+(?:\.\d+)?$/.test(text) ? 'negative price' : 'non-numeric price' };
  }
  const integer = (match[1] ?? '').replace(/^0+(?=\d)/, '');
  const fraction = match[2] ?? '';
  // Checked on the digits before any arithmetic, so a huge number never reaches Number().
  if (integer.length > 10) return { error: 'price out of range' };
  let cents = Number(integer) * 100 + Number(fraction.slice(0, 2).padEnd(2, '0'));
  // Half-up depends on the third decimal only.
  if ((fraction[2] ?? '0') >= '5') cents += 1;
  if (cents > MAX_CENTS) return { error: 'price out of range' };
  return { cents };
}

/** Cents as a 2-decimal string: 6500 -> "65.00". */
export function formatCents(cents: number): string {
  const whole = Math.trunc(cents / 100);
  const rest = cents % 100;
  return `${whole}.${String(rest).padStart(2, '0')}`;
}
