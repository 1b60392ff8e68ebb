// `pnpm bench:inflight`: issue 13's memory attack on a worker process as deployed (the bundle,
// compose's NODE_OPTIONS and MALLOC_* knobs): four ~99 MB Fever feeds synced at once at
// WORKER_CONCURRENCY=4, with the payload budget (WORKER_MAX_INFLIGHT_MB=256, the default) and
// without it (a budget no payload reaches). Peak RSS is the kernel's VmHWM. Writes the
// "Worker memory under concurrency" section of bench/RESULTS.md. Knob: BENCH_INFLIGHT_EVENTS
// (276000 events per feed, ~99 MB).
import { cpus, loadavg } from 'node:os';
import { feverFeed } from '@marquee/testing';
import { BenchStack } from './bench.stack.ts';
import { writeSection } from './results.writer.ts';

const EVENTS = Number(process.env.BENCH_INFLIGHT_EVENTS ?? 276_000);
const FEEDS = 4;

interface Run {
  budgetMb: number;
  wallMs: number;
  peakRssMb: number;
  idleRssMb: number;
  load: string;
}

async function run(stack: BenchStack, budgetMb: number, round: number): Promise<Run> {
  const worker = await stack.startWorker({
    WORKER_CONCURRENCY: String(FEEDS),
    WORKER_MAX_INFLIGHT_MB: String(budgetMb),
  });
  const idleRssMb = worker.memory().rssMb;
  const providers = [];
  for (let i = 0; i < FEEDS; i++) {
    providers.push(await stack.addProvider(`inflight-${round}-${i}`, `/feed-${i}.xml`));
  }
  const started = Date.now();
  await Promise.all(providers.map((provider) => stack.sync(provider, 900_000)));
  const wallMs = Date.now() - started;
  const { peakRssMb } = worker.memory();
  await stack.stopWorkers();
  return { budgetMb, wallMs, peakRssMb, idleRssMb, load: loadavg()[0]!.toFixed(1) };
}

const stack = new BenchStack();
const runs: Run[] = [];
try {
  await stack.start();
  for (let i = 0; i < FEEDS; i++) {
    stack.feeds.documents.set(`/feed-${i}.xml`, feverFeed(EVENTS, `Feed ${i} event`));
  }
  const size = stack.feeds.documents.get('/feed-0.xml')!.length;
  console.log(`${FEEDS} feeds of ${EVENTS} events, ${(size / 1e6).toFixed(1)} MB each`);
  runs.push(await run(stack, 256, 0));
  console.log(runs.at(-1));
  runs.push(await run(stack, 100_000, 1));
  console.log(runs.at(-1));
  const size1 = (size / 1e6).toFixed(1);
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  writeSection(
    'Worker memory under concurrency',
    `## Worker memory under concurrency

\`pnpm bench:inflight\` (bench/inflight.bench.ts), ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores shared with
other work. ${FEEDS} Fever feeds of ${EVENTS} events (${size1} MB each, with their Content-Length)
synced at once by one worker process as deployed (bundle, compose's \`NODE_OPTIONS\` and
\`MALLOC_*\`) at \`WORKER_CONCURRENCY=${FEEDS}\`; peak RSS is the kernel's VmHWM.

${line(['`WORKER_MAX_INFLIGHT_MB`', 'wall', 'worker RSS, peak', 'idle RSS', 'load (1 min)'])}
${line(['---', '---', '---', '---', '---'])}
${runs.map((r) => line([r.budgetMb === 256 ? '256 (default)' : `${r.budgetMb} (no payload reaches it)`, `${(r.wallMs / 1000).toFixed(1)} s`, `${r.peakRssMb.toFixed(0)} MB`, `${r.idleRssMb.toFixed(0)} MB`, r.load])).join('\n')}
`,
  );
} finally {
  await stack.close();
}
