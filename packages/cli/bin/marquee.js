#!/usr/bin/env node
// The `marquee` command: runs the esbuild bundle packages/cli/dist/marquee.js, built on
// `pnpm install` (postinstall) and by `pnpm build`. Outside production it first compares the
// bundle with the workspace files it was built from (dist/inputs.json): when one is newer or
// gone, or the bundle is missing, it is rebuilt, so an edited source never runs stale. The image
// (NODE_ENV=production) ships the bundle built with its sources and skips the check.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dist = new URL('../dist/', import.meta.url);

function staleness() {
  let manifest;
  try {
    statSync(new URL('marquee.js', dist));
    manifest = JSON.parse(readFileSync(new URL('inputs.json', dist), 'utf8'));
  } catch {
    return 'not built yet';
  }
  for (const file of manifest.inputs) {
    let modified;
    try {
      modified = statSync(root + file).mtimeMs;
    } catch {
      return `${file} is gone`;
    }
    if (modified > manifest.builtAt) return `${file} changed`;
  }
  return undefined;
}

const reason = process.env.NODE_ENV === 'production' ? undefined : staleness();
if (reason) {
  process.stderr.write(`marquee: rebuilding the CLI bundle (${reason})…\n`);
  try {
    const { buildCli } = await import(new URL('scripts/build.mjs', `file://${root}`).href);
    await buildCli();
  } catch (error) {
    process.stderr.write(`error: cannot build the CLI bundle: ${String(error).split('\n')[0]}\n`);
    process.exit(1);
  }
}
await import(new URL('marquee.js', dist).href);
