import { z } from 'zod';
import { bandsintownPreset } from './bandsintown.preset.ts';
import { eventbritePreset } from './eventbrite.preset.ts';
import { lastfmEventsPreset } from './lastfm-events.preset.ts';
import type { Preset } from './preset.ts';
import { songkickPreset } from './songkick.preset.ts';
import { ticketmasterDiscoveryPreset } from './ticketmaster-discovery.preset.ts';

export type { Preset };

const PRESETS: readonly Preset[] = [
  ticketmasterDiscoveryPreset,
  songkickPreset,
  bandsintownPreset,
  eventbritePreset,
  lastfmEventsPreset,
];

export function presets(): readonly Preset[] {
  return PRESETS;
}

export function findPreset(name: string): Preset | undefined {
  return PRESETS.find((preset) => preset.name === name);
}

// Objects merged key by key, so `{"preset": …, "fields": {"title": …}}` overrides one field.
const MERGED_KEYS = new Set(['fields', 'query', 'headers']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Wraps a kind's config schema: `"preset": "<name>"` starts from that preset's config, and the
 * rest of the given config overrides it. An unknown preset is an error on the `preset` field.
 */
export function withPresets<Schema extends z.ZodType>(kind: string, schema: Schema) {
  return z.preprocess((input) => {
    if (!isRecord(input) || typeof input.preset !== 'string') return input;
    const preset = findPreset(input.preset);
    if (!preset || preset.kind !== kind) return input;
    const merged: Record<string, unknown> = { ...preset.config };
    for (const [key, value] of Object.entries(input)) {
      const base = merged[key];
      merged[key] =
        MERGED_KEYS.has(key) && isRecord(base) && isRecord(value) ? { ...base, ...value } : value;
    }
    return merged;
  }, schema);
}

/** The `preset` field of a kind's schema: one of that kind's preset names. */
export function presetField(kind: string) {
  const names = PRESETS.filter((preset) => preset.kind === kind).map((preset) => preset.name);
  return z
    .string()
    .refine((name) => names.includes(name), {
      message: `unknown preset; ${kind} presets: ${names.join(', ') || '(none)'}`,
    })
    .optional();
}
