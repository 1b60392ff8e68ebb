/**
 * An instant as people read it in logs, the CLI and the dashboard: ISO 8601 in UTC to the second
 * (`2026-12-07T11:57:22Z`); the milliseconds say nothing at that scale.
 */
export function formatInstant(at: Date | string | number): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
