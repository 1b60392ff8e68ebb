import { readFileSync } from 'node:fs';
import { Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from './registry.factory.ts';

export const BUILD_INFO_METRIC = `${METRIC_PREFIX}build_info`;

export interface BuildInfo {
  /** The release: `version` in the repository's package.json (the image tag production pins). */
  version: string;
  /** The commit the bundles were built from; `source` when running the TypeScript sources. */
  revision: string;
}

// Replaced by scripts/build.mjs (esbuild `define`) in the bundles the image runs; undeclared when
// the sources run under tsx or jest.
declare const MARQUEE_VERSION: string | undefined;
declare const MARQUEE_REVISION: string | undefined;

/** What this process runs: the values baked into its bundle, else the sources' own version. */
export function buildInfo(): BuildInfo {
  if (typeof MARQUEE_VERSION !== 'undefined' && typeof MARQUEE_REVISION !== 'undefined') {
    return { version: MARQUEE_VERSION, revision: MARQUEE_REVISION };
  }
  const manifest = new URL('../../../package.json', import.meta.url);
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string };
  return { version: version ?? 'unknown', revision: 'source' };
}

/**
 * `marquee_build_info{version,revision,node} 1`, the Prometheus convention for what a process
 * runs: join on it to tell which release a series came from, or count the versions in a rollout.
 */
export function registerBuildInfo(registry: Registry, info: BuildInfo = buildInfo()): void {
  const gauge = new Gauge({
    name: BUILD_INFO_METRIC,
    help: 'Release, commit and Node.js version this process runs (always 1)',
    labelNames: ['version', 'revision', 'node'] as const,
    registers: [registry],
    // Across the api's cluster workers every process reports the same 1, not their sum.
    aggregator: 'max',
  });
  gauge.set({ version: info.version, revision: info.revision, node: process.version }, 1);
}
