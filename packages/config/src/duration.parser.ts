import parse from 'parse-duration';

// The accepted syntax, checked before parse-duration converts: it skips what it cannot read
// ("1h5x" would be one hour), so a typo would pass silently.
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;

/** "90s", "5m", "1h30m", "2d" or a bare number of seconds → whole seconds (at least 1). */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed) && !DURATION.test(trimmed)) {
    throw new Error(`"${text}" is not a duration (examples: 30s, 5m, 1h30m, 2d)`);
  }
  // A bare number is in the unit asked for: seconds.
  return positive(Math.round(parse(trimmed, 's') ?? Number.NaN), text);
}

function positive(seconds: number, text: string): number {
  if (!Number.isSafeInteger(seconds) || seconds < 1) {
    throw new Error(`"${text}" is not a duration of at least one second`);
  }
  return seconds;
}

export function formatDuration(seconds: number): string {
  const units: [string, number][] = [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ];
  let rest = seconds;
  let out = '';
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out || '0s';
}
