/** A ready config for a known provider, used by `"preset": "<name>"` in a provider's config. */
export interface Preset {
  name: string;
  kind: string;
  description: string;
  /** An example provider URL (docs/providers.md shows it). */
  exampleUrl: string;
  config: Record<string, unknown>;
}
