// packages/cli/bin/marquee.js keeps the bundle in step with its sources: run in a copy of the
// layout it expects, with a stand-in bundle and build script, so each case is quick and the
// repository's own bundle is left alone.
import { cpSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import { REPO_ROOT, runNode } from '@marquee/testing';

let root: string;
const roots: string[] = [];
const SOURCE = 'packages/cli/src/main.ts';

/** Writes a bundle that prints `label`, and its manifest, as scripts/build.mjs would. */
function bundle(label: string, builtAt = Date.now()): void {
  writeFileSync(
    join(root, 'packages/cli/dist/marquee.js'),
    `console.log(${JSON.stringify(label)});\n`,
  );
  writeFileSync(
    join(root, 'packages/cli/dist/inputs.json'),
    JSON.stringify({ builtAt, inputs: [SOURCE] }),
  );
}

function setMtime(file: string, at: Date): void {
  utimesSync(join(root, file), at, at);
}

const run = (env: NodeJS.ProcessEnv = {}) =>
  runNode([join(root, 'packages/cli/bin/marquee.js')], { PATH: process.env.PATH, ...env });

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'marquee-bin-'));
  roots.push(root);
  for (const dir of ['packages/cli/bin', 'packages/cli/dist', 'packages/cli/src', 'scripts'])
    mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, 'package.json'), '{"type":"module"}\n');
  cpSync(join(REPO_ROOT, 'packages/cli/bin/marquee.js'), join(root, 'packages/cli/bin/marquee.js'));
  writeFileSync(join(root, SOURCE), '// source\n');
  setMtime(SOURCE, new Date(Date.now() - 60_000));
  // The stand-in build writes a bundle that says it was rebuilt.
  writeFileSync(
    join(root, 'scripts/build.mjs'),
    `import { writeFileSync } from 'node:fs';
export async function buildCli() {
  if (process.env.BUILD_FAILS) throw new Error('Could not resolve "./missing.ts"');
  writeFileSync(new URL('../packages/cli/dist/marquee.js', import.meta.url), 'console.log("rebuilt");\\n');
  writeFileSync(new URL('../packages/cli/dist/inputs.json', import.meta.url),
    JSON.stringify({ builtAt: Date.now(), inputs: [${JSON.stringify(SOURCE)}] }));
}
`,
  );
  bundle('as built');
});

afterAll(() => {
  for (const dir of roots) rmSync(dir, { recursive: true, force: true });
});

describe('marquee bin', () => {
  it('runs the bundle as is while no source is newer', async () => {
    expect(await run()).toEqual({ code: 0, stdout: 'as built\n', stderr: '' });
  });

  it('rebuilds first when a source changed after the build, then runs the new bundle', async () => {
    setMtime(SOURCE, new Date(Date.now() + 5_000));
    const result = await run();
    expect(result).toEqual({
      code: 0,
      stdout: 'rebuilt\n',
      stderr: `marquee: rebuilding the CLI bundle (${SOURCE} changed)…\n`,
    });
    setMtime(SOURCE, new Date(Date.now() - 60_000));
    expect((await run()).stderr).toBe('');
  });

  it('rebuilds when the bundle or its manifest is missing, or a source is gone', async () => {
    rmSync(join(root, 'packages/cli/dist/inputs.json'));
    expect(await run()).toMatchObject({
      stdout: 'rebuilt\n',
      stderr: expect.stringContaining('(not built yet)'),
    });
    rmSync(join(root, SOURCE));
    expect((await run()).stderr).toContain(`(${SOURCE} is gone)`);
  });

  it('trusts the bundle in production (the image ships it built with its sources)', async () => {
    setMtime(SOURCE, new Date(Date.now() + 5_000));
    expect(await run({ NODE_ENV: 'production' })).toEqual({
      code: 0,
      stdout: 'as built\n',
      stderr: '',
    });
  });

  it('exits 1 with one line when the bundle cannot be built', async () => {
    setMtime(SOURCE, new Date(Date.now() + 5_000));
    const result = await run({ BUILD_FAILS: '1' });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n').slice(1)).toEqual([
      'error: cannot build the CLI bundle: Error: Could not resolve "./missing.ts"',
      '',
    ]);
  });
});
