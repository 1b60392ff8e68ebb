// `pnpm start`: the whole stack on one machine. Applies migrations, registers the bundled sample
// provider when the catalog has no providers (unless SAMPLE_PROVIDERS=false), serves its feed
// locally, then runs scheduler, worker, api and dashboard as child processes until SIGINT/SIGTERM.
// package.json runs it with `exec`: without it pnpm's script shell sits between pnpm and this
// process, dies of Ctrl-C or pnpm's SIGTERM, and pnpm reports a failure (or leaves the stack
// running) although the stack stops cleanly with exit 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baseEnvSchema, envBool, parseEnv, port } from '@marquee/config';
import { createDb, migrate, ProviderRepository } from '@marquee/db';
import { sampleProviders, startSampleServer, type SampleServer } from '@marquee/samples';
import { freePort } from '@marquee/testing';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SERVICES = ['scheduler', 'worker', 'api', 'dashboard'] as const;
const STOP_DEADLINE_MS = 30_000;

const env = parseEnv(
  baseEnvSchema.extend({
    SAMPLE_PROVIDERS: envBool.default(true),
    SAMPLE_PORT: port.default(3090),
    API_PORT: port.default(3000),
    // 0: any free port (shown in the banner).
    DASHBOARD_PORT: port.default(3001),
    // The local stack fetches its sample feed from loopback, and webhooks are tried on receivers there.
    ALLOW_PRIVATE_PROVIDERS: envBool.default(true),
    ALLOW_PRIVATE_WEBHOOKS: envBool.default(true),
  }),
);

const say = (line: string) => process.stdout.write(`[start] ${line}\n`);

const { applied } = await migrate({ databaseUrl: env.DATABASE_URL, log: say });
if (applied.length === 0) say('database is up to date');

let samples: SampleServer | undefined;
if (env.SAMPLE_PROVIDERS) {
  samples = await startSampleServer(env.SAMPLE_PORT);
  say(`sample provider feed at ${samples.url}/fever/feed.xml`);
  const db = createDb({ databaseUrl: env.DATABASE_URL, maxConnections: 1 });
  const providers = new ProviderRepository(db);
  if ((await providers.count()) === 0) {
    for (const provider of sampleProviders(samples.url)) {
      await providers.create(provider);
      say(`registered sample provider ${provider.name}`);
    }
  }
  await db.$disconnect();
}

// The dashboard never runs without credentials. Without configured ones this local stack makes a
// password for this run only and shows it once, in the banner; nothing stores it.
const dashboardPort = env.DASHBOARD_PORT === 0 ? await freePort() : env.DASHBOARD_PORT;
const dashboardUser = process.env.DASHBOARD_USER || 'admin';
const generatedPassword =
  process.env.DASHBOARD_PASSWORD || process.env.DASHBOARD_TOKEN
    ? undefined
    : randomBytes(18).toString('base64url');
const serviceEnv: Partial<Record<(typeof SERVICES)[number], NodeJS.ProcessEnv>> = {
  dashboard: {
    DASHBOARD_PORT: String(dashboardPort),
    ...(generatedPassword && {
      DASHBOARD_USER: dashboardUser,
      DASHBOARD_PASSWORD: generatedPassword,
    }),
  },
};

const children = new Map<string, ChildProcess>();
let stopping = false;

function run(service: (typeof SERVICES)[number]): void {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'services', service, 'src', 'main.ts')],
    {
      cwd: root,
      env: {
        ...process.env,
        ALLOW_PRIVATE_PROVIDERS: String(env.ALLOW_PRIVATE_PROVIDERS),
        ALLOW_PRIVATE_WEBHOOKS: String(env.ALLOW_PRIVATE_WEBHOOKS),
        ...serviceEnv[service],
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.set(service, child);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) =>
      process.stdout.write(`[${service}] ${line}\n`),
    );
  }
  child.on('exit', (code, signal) => {
    children.delete(service);
    if (!stopping) {
      say(`${service} exited unexpectedly (${signal ?? `code ${code}`}); stopping the stack`);
      void stop(1);
    } else if (children.size === 0) {
      void finish();
    }
  });
}

let exitCode = 0;
let killTimer: NodeJS.Timeout | undefined;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  exitCode = code;
  say('stopping…');
  for (const child of children.values()) child.kill('SIGTERM');
  killTimer = setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
  }, STOP_DEADLINE_MS);
  killTimer.unref();
  if (children.size === 0) await finish();
}

async function finish(): Promise<void> {
  clearTimeout(killTimer);
  await samples?.close();
  say('stopped');
  process.exit(exitCode);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

for (const service of SERVICES) run(service);

// Tell the user where to look once the API answers.
const apiUrl = `http://localhost:${env.API_PORT}`;
for (let attempt = 0; attempt < 120 && !stopping; attempt += 1) {
  const answers = await Promise.all(
    [`${apiUrl}/healthz`, `http://localhost:${dashboardPort}/healthz`].map((url) =>
      fetch(url).then(
        (response) => response.ok,
        () => false,
      ),
    ),
  );
  const up = answers.every(Boolean);
  if (up) {
    say(`Marquee is up: curl '${apiUrl}/search'  (Ctrl-C stops everything)`);
    const credentials = generatedPassword
      ? `user ${dashboardUser}, password ${generatedPassword} (generated for this run)`
      : process.env.DASHBOARD_PASSWORD
        ? `user ${dashboardUser}, your DASHBOARD_PASSWORD`
        : 'your DASHBOARD_TOKEN as a bearer token';
    say(`dashboard: http://localhost:${dashboardPort}/  (${credentials})`);
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
}
