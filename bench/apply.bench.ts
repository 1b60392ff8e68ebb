// `pnpm bench:apply`: `marquee providers apply -f FILE` with 1,000 and 10,000 providers on a
// fresh database: as a process (the bundle, what an operator runs) and in process (what a bench
// registering providers calls), first apply, re-apply unchanged, half changed, and --prune.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { applyProviderFile, formatApplyResult } from '@marquee/cli';
import { createDb } from '@marquee/db';
import { createTestDatabase, REPO_ROOT } from '@marquee/testing';
import { writeSection } from './results.writer.ts';

const SIZES = [1_000, 10_000];
const CLI = join(REPO_ROOT, 'packages/cli/bin/marquee.js');

interface Row {
  case: string;
  seconds: number;
  printed: string;
}

function providers(count: number, every: (index: number) => string) {
  return {
    providers: Array.from({ length: count }, (_, index) => ({
      name: `venue-${index}`,
      kind: index % 2 === 0 ? 'fever-xml' : 'json-api',
      url: `http://127.0.0.1:9/${index}/feed`,
      every: every(index),
      timezone: 'Europe/Madrid',
      ...(index % 2 === 1 && {
        config: {
          items: 'data',
          fields: { id: 'id', title: 'name', start: 'date' },
          headers: { 'User-Agent': 'MarqueeBench/1.0' },
          pagination: { type: 'page', pageParam: 'page' },
        },
      }),
    })),
  };
}

async function timed(label: string, run: () => Promise<string> | string): Promise<Row> {
  const started = performance.now();
  const printed = await run();
  const seconds = (performance.now() - started) / 1000;
  console.log(`${label}: ${seconds.toFixed(2)} s (${printed})`);
  return { case: label, seconds, printed };
}

async function benchSize(count: number, dir: string): Promise<Row[]> {
  const database = await createTestDatabase(`bench_apply_${count}`);
  const db = createDb({ databaseUrl: database.url, maxConnections: 2 });
  const first = join(dir, `first-${count}.yaml`);
  const half = join(dir, `half-${count}.yaml`);
  const fewer = join(dir, `fewer-${count}.yaml`);
  writeFileSync(first, stringify(providers(count, () => '5m')));
  writeFileSync(half, stringify(providers(count, (index) => (index % 2 === 0 ? '10m' : '5m'))));
  writeFileSync(
    fewer,
    stringify(providers(count - count / 10, (index) => (index % 2 === 0 ? '10m' : '5m'))),
  );
  // The bundle as built at the start: no rebuild check inside a timed run.
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: database.url,
    ALLOW_PRIVATE_PROVIDERS: 'true',
  };
  const cli = (file: string, ...extra: string[]) =>
    execFileSync('node', [CLI, 'providers', 'apply', '-f', file, ...extra], { env })
      .toString()
      .trim();
  const apply = async (file: string, prune = false) =>
    formatApplyResult(await applyProviderFile(db, file, { allowPrivate: true, prune }));
  try {
    return [
      await timed(`${count}: process, first apply`, () => cli(first)),
      await timed(`${count}: process, unchanged`, () => cli(first)),
      await timed(`${count}: in process, half changed`, () => apply(half)),
      await timed(`${count}: in process, unchanged`, () => apply(half)),
      await timed(`${count}: in process, --prune 10%`, () => apply(fewer, true)),
      await timed(`${count}: process, half changed back`, () => cli(first)),
    ];
  } finally {
    await db.$disconnect();
    await database.drop();
  }
}

execFileSync('node', [join(REPO_ROOT, 'scripts/build.mjs'), 'cli'], { stdio: 'inherit' });
const before = loadavg().map((load) => load.toFixed(2));
const dir = mkdtempSync(join(tmpdir(), 'marquee-bench-apply-'));
const rows: Row[] = [];
try {
  for (const count of SIZES) rows.push(...(await benchSize(count, dir)));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const after = loadavg().map((load) => load.toFixed(2));

writeSection(
  'Providers apply',
  `## Providers apply

Run ${new Date().toISOString()} by \`pnpm bench:apply\` on ${cpus().length} cores, load average
${before.join(', ')} before and ${after.join(', ')} after (other work was running on the machine).
Fresh database per size; half the providers are \`json-api\` with a config, half \`fever-xml\`; the
process runs are \`node packages/cli/bin/marquee.js providers apply -f FILE\` (the bundle, whole
process: start, YAML parse, validation, one transaction); in process is \`applyProviderFile\` of
\`@marquee/cli\`.

| case | wall | printed |
| --- | --- | --- |
${rows.map((row) => `| ${row.case} | ${row.seconds.toFixed(2)} s | ${row.printed} |`).join('\n')}
`,
);
