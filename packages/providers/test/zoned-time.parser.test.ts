import { describe, expect, it } from '@jest/globals';
import { DateTime } from 'luxon';
import { zonedLocalMillis } from '../src/time/zoned-time.parser.ts';

const pad = (n: number) => String(n).padStart(2, '0');
const local = (ms: number) => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
};

describe('zonedLocalMillis', () => {
  it("equals luxon's fromISO every 15 minutes through DST gaps and overlaps in several zones", () => {
    // Lord Howe shifts by 30 minutes, Kathmandu has a 5:45 offset, Madrid and New York have the
    // usual 1-hour gaps and overlaps; UTC has none.
    const zones = [
      'Europe/Madrid',
      'America/New_York',
      'Australia/Lord_Howe',
      'Asia/Kathmandu',
      'UTC',
    ];
    const days = [
      Date.UTC(2021, 2, 27),
      Date.UTC(2021, 9, 30),
      Date.UTC(2021, 2, 13),
      Date.UTC(2021, 10, 6),
      Date.UTC(2021, 3, 3),
      Date.UTC(2021, 9, 2),
      Date.UTC(1986, 0, 1),
    ];
    let compared = 0;
    for (const zone of zones) {
      for (const day of days) {
        for (let ms = day; ms < day + 3 * 86_400_000; ms += 15 * 60_000) {
          const value = local(ms);
          expect([value, zone, zonedLocalMillis(value, zone)]).toEqual([
            value,
            zone,
            DateTime.fromISO(value, { zone }).toMillis(),
          ]);
          compared += 1;
        }
      }
    }
    expect(compared).toBeGreaterThan(1_000);
  });

  it('equals luxon on random times over two centuries', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 3_000; i += 1) {
      const value = local(Date.UTC(1900, 0, 1) + Math.floor(random() * 200 * 365.25 * 86_400_000));
      for (const zone of ['Europe/Madrid', 'America/Sao_Paulo']) {
        expect(zonedLocalMillis(value, zone)).toBe(DateTime.fromISO(value, { zone }).toMillis());
      }
    }
  });

  it('leaves other forms and out-of-range fields to luxon (undefined)', () => {
    for (const value of [
      '2021-09-31T20:00:00',
      '2021-02-29T10:00:00',
      '2021-06-30T24:00:00',
      '2021-06-30T21:00:00Z',
      '2021-06-30T21:00:00+02:00',
      '2021-06-30T21:00',
      '2021-06-30 21:00:00',
      '0099-06-30T21:00:00',
      'tomorrow',
    ]) {
      expect(zonedLocalMillis(value, 'Europe/Madrid')).toBeUndefined();
    }
    expect(zonedLocalMillis('2021-06-30T21:00:00', 'Mars/Olympus')).toBeUndefined();
  });

  it('knows the last day of every month, leap years by the Gregorian rule', () => {
    for (const year of [1900, 2000, 2023, 2024, 2100]) {
      for (let month = 1; month <= 12; month += 1) {
        for (const day of [28, 29, 30, 31]) {
          const value = `${year}-${String(month).padStart(2, '0')}-${day}T12:00:00`;
          const exists = new Date(Date.UTC(year, month - 1, day)).getUTCMonth() === month - 1;
          const millis = zonedLocalMillis(value, 'UTC');
          expect(millis === undefined ? 'undefined' : 'read').toBe(exists ? 'read' : 'undefined');
        }
      }
    }
  });
});
