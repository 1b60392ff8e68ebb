// A worker's resident memory at start is part of its budget (issue 7: peak RSS of an ingest):
// modules that only some provider kinds need are loaded on first use, not when
// @marquee/providers is imported.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

// A resolve hook that refuses cheerio, registered after tsx's: any static import of it fails.
const REFUSE_CHEERIO = `export async function resolve(specifier, context, next) {
  if (specifier === 'cheerio') throw new Error('cheerio imported by ' + context.parentURL);
  return next(specifier, context);
}`;

const SCRIPT = `
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(REFUSE_CHEERIO)}));
const providers = await import('@marquee/providers');
process.stdout.write(providers.loadHtml(Buffer.from('<p>loaded on use</p>'))('p').text());
`;

describe('@marquee/providers at import', () => {
  it('does not load cheerio until an HTML kind needs it', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--eval', SCRIPT],
      { cwd: PACKAGE_ROOT },
    );
    expect(stdout).toBe('loaded on use');
  });
});
