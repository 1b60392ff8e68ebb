// `pnpm build`: each service's entry point as plain JavaScript, services/<name>/dist/main.js, so
// the image runs `node services/<name>/dist/main.js` without compiling TypeScript at start (tsx
// keeps an esbuild service and its loader thread resident: an idle worker is 149 MB under tsx,
// 91-98 MB as a bundle), and the CLI as packages/cli/dist/marquee.js (`--help` in a fraction of
// the seconds tsx takes to compile its graph).
// Everything is bundled (workspace packages and node_modules alike): the pruned install has no
// link from a service to its packages' dependencies, so a bare import left in the bundle would
// not resolve. Dynamic imports stay lazy as chunks beside main.js (Prisma's query compiler and
// its wasm are loaded on first query). Usage: node scripts/build.mjs [service … | cli]
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export const SERVICES = ['api', 'worker', 'scheduler', 'dashboard'];

/**
 * Packages left as imports, resolved at run time from the service's own node_modules (each must
 * be a dependency in its package.json): @bull-board/api finds its UI's files with
 * `require.resolve('@bull-board/ui/package.json')`, which from a bundle would look beside dist/.
 * The api likewise finds swagger-ui-dist's files from its own directory at run time
 * (docs.router.ts). So a bundle runs from services/<name>/dist, where the image puts it.
 */
const EXTERNAL = {
  dashboard: ['@bull-board/api', '@bull-board/express'],
};

/**
 * cheerio (HTML kinds only) is loaded on first use through `createRequire(import.meta.url)`
 * (packages/providers/src/html/cheerio.loader.ts), so it stays out of the bundle and out of memory
 * until needed. In a bundle `import.meta.url` is the service's dist/main.js, where cheerio is not
 * installed: the require is anchored at the providers package instead, which the image keeps.
 * `anchorDir` is where the entry point will run from (the CLI is built elsewhere, then moved).
 */
function lazyCheerio(anchorDir) {
  return {
    name: 'lazy-cheerio',
    setup(build) {
      build.onLoad({ filter: /[\\/]cheerio\.loader\.ts$/ }, async (args) => {
        const { readFile } = await import('node:fs/promises');
        const source = await readFile(args.path, 'utf8');
        // The loader lands in the entry file, or in a chunk when only dynamic imports reach it
        // (the CLI's commands load the provider kinds on use): one directory further down.
        const target = join(ROOT, 'packages/providers/package.json');
        const from = (dir) => `new URL(${JSON.stringify(relative(dir, target))}, import.meta.url)`;
        const anchor = `/\\/chunks\\/[^/]*$/.test(import.meta.url) ? ${from(join(anchorDir, 'chunks'))} : ${from(anchorDir)}`;
        const bundled = source.replace(
          'createRequire(import.meta.url)',
          `createRequire(${anchor})`,
        );
        if (bundled === source)
          throw new Error(`${args.path}: createRequire(import.meta.url) not found`);
        return { contents: bundled, loader: 'ts' };
      });
    },
  };
}

/**
 * What `marquee_build_info` reports from a bundle (packages/metrics/src/build-info.gauge.ts): the
 * release in package.json and the commit: MARQUEE_REVISION (the Dockerfile's build argument: the
 * image's context has no .git), else the checkout's HEAD, else `unknown`.
 */
export function buildInfo() {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  let revision = process.env.MARQUEE_REVISION;
  if (!revision) {
    try {
      revision = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, stdio: 'pipe' })
        .toString()
        .trim();
    } catch {
      revision = 'unknown';
    }
  }
  return { version, revision };
}

/** Builds services/<name>/dist; `overrides` are esbuild options (e.g. another `outdir`). */
export async function buildService(name, overrides = {}) {
  const outdir = overrides.outdir ?? join(ROOT, 'services', name, 'dist');
  rmSync(outdir, { recursive: true, force: true });
  return build(
    bundleOptions(name, {
      entryPoints: { main: join(ROOT, 'services', name, 'src', 'main.ts') },
      outdir,
      ...overrides,
    }),
  );
}

export const CLI_DIST = join(ROOT, 'packages', 'cli', 'dist');
/** Beside the CLI bundle: when it was built and from which workspace files (bin/marquee.js). */
export const CLI_MANIFEST = 'inputs.json';

/**
 * Builds packages/cli/dist/marquee.js and its manifest. Several `marquee` processes may rebuild
 * at once (tests in parallel after an edit): each builds into a directory of its own and moves
 * the files in, chunks first (their names carry a content hash), the entry point next and the
 * manifest last, each move atomic, so a reader never loads half a bundle.
 */
export async function buildCli() {
  const builtAt = Date.now();
  mkdirSync(CLI_DIST, { recursive: true });
  const staging = mkdtempSync(join(CLI_DIST, '.build-'));
  try {
    const result = await build(
      bundleOptions('cli', {
        entryPoints: { marquee: join(ROOT, 'packages', 'cli', 'src', 'main.ts') },
        outdir: staging,
        anchorDir: CLI_DIST,
      }),
    );
    const inputs = Object.keys(result.metafile.inputs)
      .map((file) => relative(ROOT, join(process.cwd(), file)))
      .filter((file) => !file.split(/[\\/]/).includes('node_modules'));
    writeFileSync(join(staging, CLI_MANIFEST), JSON.stringify({ builtAt, inputs }, null, 1));
    const files = readdirSync(staging, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => relative(staging, join(entry.parentPath, entry.name)));
    const order = (file) => (file === CLI_MANIFEST ? 2 : file.startsWith('marquee.') ? 1 : 0);
    for (const file of files.sort((a, b) => order(a) - order(b))) {
      mkdirSync(dirname(join(CLI_DIST, file)), { recursive: true });
      renameSync(join(staging, file), join(CLI_DIST, file));
    }
    return result;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function bundleOptions(name, { anchorDir, ...options }) {
  return {
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Whitespace and comments out, names kept: stack traces still name the functions, and the
    // source V8 holds in memory shrinks (the unminified bundle keeps comments, some non-ASCII,
    // which makes V8 store all 5.7 MB of it as a two-byte string: 11 MB of heap, 4 MB minified).
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    // Maps without the sources: src/ ships beside dist/, and Node's --enable-source-maps (off by
    // default) would otherwise hold every source text in memory.
    sourcemap: 'linked',
    sourcesContent: false,
    // Bundled CommonJS modules call require() for Node's built-ins; ESM output has none.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    // Optional native or alternative back ends the code never loads.
    external: ['pg-native', ...(EXTERNAL[name] ?? [])],
    plugins: [lazyCheerio(anchorDir ?? options.outdir)],
    chunkNames: 'chunks/[name]-[hash]',
    // Plain string constants: an object define would become a module of its own, initialised
    // from every CommonJS module in the bundle.
    define: Object.fromEntries(
      Object.entries(buildInfo()).map(([key, value]) => [
        `MARQUEE_${key.toUpperCase()}`,
        JSON.stringify(value),
      ]),
    ),
    logLevel: 'warning',
    metafile: true,
    ...options,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2);
  for (const name of names.length > 0 ? names : [...SERVICES, 'cli']) {
    const started = performance.now();
    const result = name === 'cli' ? await buildCli() : await buildService(name);
    const bytes = Object.entries(result.metafile.outputs)
      .filter(([file]) => file.endsWith('.js'))
      .reduce((sum, [, output]) => sum + output.bytes, 0);
    console.log(
      `${name === 'cli' ? 'packages/cli' : `services/${name}`}/dist: ${(bytes / 1e6).toFixed(1)} MB of JavaScript in ${Math.round(performance.now() - started)} ms`,
    );
  }
}
