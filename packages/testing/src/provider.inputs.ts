import type { NewProvider } from '@marquee/db';

/** A Fever XML provider at `url`, synced hourly in UTC; `extra` overrides any field. */
export function feverProvider(
  name: string,
  url: string,
  extra: Partial<NewProvider> = {},
): NewProvider {
  return { name, kind: 'fever-xml', url, everySeconds: 3600, timezone: 'UTC', ...extra };
}
