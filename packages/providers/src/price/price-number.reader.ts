import { minorDigits } from './currency.marks.ts';
import { parsePriceCents, type PriceParse } from './price.util.ts';

/**
 * A number as people write it in a price: digits with `.` / `,` separators, thousands grouped by a
 * space or an apostrophe (`1 250,00`, `1'250.00`). Runs of separators (`12,,5`) are taken whole so
 * that they are refused, not split into two numbers.
 */
export const NUMBER_RUN = /\d{1,3}(?:[ '’]\d{3})+(?!\d)(?:[.,]+\d+)*|\d+(?:[.,]+\d+)*/y;

export interface NumberContext {
  /** The decimal separator of the price locale, when the provider set one. */
  decimal?: '.' | ',' | undefined;
  /** The currency the text names, whose minor unit may have 3 digits (KWD, BHD…). */
  currency?: string | null | undefined;
}

/** The decimal separator a locale writes ("es" → ",", "en" → "."). */
export function decimalSeparatorOf(locale: string): '.' | ',' | undefined {
  const part = new Intl.NumberFormat(locale).formatToParts(1.5).find((p) => p.type === 'decimal');
  return part?.value === '.' || part?.value === ',' ? part.value : undefined;
}

/**
 * A run of NUMBER_RUN as cents. With both separators the last one is the decimal one
 * (`1.250,00`, `1,250.00`); one separator repeated groups thousands (`1.250.000`); a single
 * separator is decimal unless exactly three digits follow it, where `ambiguousIsDecimal` decides.
 * Thousands groups must have three digits, so `12.50.00` is no number.
 */
export function readNumberRun(run: string, context: NumberContext): PriceParse {
  const notNumber = { error: `${quote(run)} is not a number` };
  const spaced = /[ '’]/.test(run);
  const body = run.replace(/[ '’]/g, '');
  if (/[.,]{2}/.test(body)) return notNumber;
  const separators = body.replace(/\d/g, '');
  const last = separators.at(-1);
  if (last === undefined) return toCents(body, '');
  const at = body.lastIndexOf(last);
  const head = body.slice(0, at);
  const tail = body.slice(at + 1);
  if (new Set(separators).size === 2) {
    // The other separator groups thousands, and only before the decimal one.
    if (separators.slice(0, -1).includes(last)) return notNumber;
    const integer = ungroup(head, last === '.' ? ',' : '.');
    return integer === undefined ? notNumber : toCents(integer, tail);
  }
  if (separators.length > 1) {
    const integer = ungroup(body, last);
    return integer === undefined ? notNumber : toCents(integer, '');
  }
  if (spaced || tail.length !== 3 || ambiguousIsDecimal(head, last, context)) {
    return toCents(head, tail);
  }
  return toCents(head + tail, '');
}

/**
 * `1.250` / `1,250`: thousands or a decimal with three places? The locale says which separator is
 * decimal; without one, people mean thousands (prices are written with 0 or 2 decimals), except
 * `0.250` and currencies whose minor unit has three digits.
 */
function ambiguousIsDecimal(head: string, separator: string, context: NumberContext): boolean {
  if (!/^[1-9]\d{0,2}$/.test(head)) return true;
  if (context.decimal !== undefined) return separator === context.decimal;
  return context.currency != null && minorDigits(context.currency) === 3;
}

/** Digits of a thousands-grouped integer, or undefined when a group is not three digits. */
function ungroup(text: string, separator: string): string | undefined {
  const [first = '', ...groups] = text.split(separator);
  if (!/^[1-9]\d{0,2}$/.test(first) || groups.some((group) => !/^\d{3}$/.test(group))) {
    return undefined;
  }
  return first + groups.join('');
}

/** A text as messages quote it: at most 40 characters. */
export function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 39)}…` : text);
}

function toCents(integer: string, fraction: string): PriceParse {
  return parsePriceCents(fraction === '' ? integer : `${integer}.${fraction}`);
}
