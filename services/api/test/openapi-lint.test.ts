// The generated OpenAPI document, linted by Redocly's CLI with its `recommended` ruleset (servers,
// security on every operation, license, a 4xx on every operation, valid schemas and references):
// no error and no warning. The CLI runs offline (its telemetry and update check are turned off).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildOpenApiDocument } from '../src/openapi.document.ts';

const REDOCLY = join(
  dirname(createRequire(import.meta.url).resolve('@redocly/cli/package.json')),
  'bin/cli.js',
);

interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: { ruleId: string; severity: string; message: string }[];
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'marquee-openapi-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Lints `document` with the recommended ruleset; the CLI exits 1 on errors, with its report. */
async function lint(document: unknown): Promise<LintReport> {
  const file = join(dir, 'openapi.json');
  await writeFile(file, JSON.stringify(document));
  const run = promisify(execFile);
  const output = await run(
    process.execPath,
    [REDOCLY, 'lint', file, '--extends', 'recommended', '--format', 'json'],
    {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        REDOCLY_TELEMETRY: 'off',
        REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
      },
    },
  ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  return JSON.parse(output.stdout) as LintReport;
}

describe('the OpenAPI document under Redocly lint (recommended)', () => {
  it('has no error and no warning', async () => {
    const report = await lint(buildOpenApiDocument());
    expect(report.problems.map(({ ruleId, message }) => `${ruleId}: ${message}`)).toEqual([]);
    expect(report.totals).toEqual({ errors: 0, warnings: 0, ignored: 0 });
  });

  it('reports what it is meant to catch (the lint can fail)', async () => {
    const document = buildOpenApiDocument() as { servers?: unknown; security?: unknown };
    delete document.servers;
    delete document.security;
    const report = await lint(document);
    const rules = new Set(report.problems.map((problem) => problem.ruleId));
    expect(rules).toEqual(new Set(['no-empty-servers', 'security-defined']));
    expect(report.totals.errors).toBeGreaterThan(0);
  });
});
