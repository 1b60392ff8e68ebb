import { describe, expect, it } from '@jest/globals';
import { formatDuration, parseDuration } from '../src/index.ts';

describe('parseDuration', () => {
  it.each([
    ['90s', 90],
    ['5m', 300],
    ['1h30m', 5_400],
    ['2d', 172_800],
    ['1.5h', 5_400],
    ['1d1h1m1s', 90_061],
    // A bare number is seconds; sub-second parts round to whole seconds.
    ['3600', 3_600],
    [' 5m ', 300],
    ['1500ms', 2],
    ['500ms', 1],
  ])('reads %j as %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  // parse-duration alone would read some of these ("1h5x" as one hour): typos must not pass.
  it.each(['', '5x', '1h5x', 'h', '1h 30m', '-5m', '5 minutes', '1m5', '1e3s', 'Infinity'])(
    'refuses %j, with examples',
    (text) => {
      expect(() => parseDuration(text)).toThrow(
        `"${text}" is not a duration (examples: 30s, 5m, 1h30m, 2d)`,
      );
    },
  );

  it.each(['0', '0s', '400ms', '99999999999999999999d'])(
    'refuses %j: not at least one second',
    (text) => {
      expect(() => parseDuration(text)).toThrow(
        `"${text}" is not a duration of at least one second`,
      );
    },
  );

  it('reads back what formatDuration writes', () => {
    for (const seconds of [1, 59, 60, 3_600, 5_400, 86_400, 90_061]) {
      expect(parseDuration(formatDuration(seconds))).toBe(seconds);
    }
    expect(formatDuration(5_400)).toBe('1h30m');
  });
});
