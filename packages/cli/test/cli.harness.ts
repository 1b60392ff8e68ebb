// `marquee` run in process, as main.ts runs it, with the environment given: its exit code and
// what it printed on each stream.
import { CliContext } from '../src/cli.context.ts';
import { runCli } from '../src/program.ts';

/** A test's own database and queue prefix, on the test Redis. */
export function cliTestEnv(
  databaseUrl: string,
  prefix: string,
  allowPrivate = true,
): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: 'redis://127.0.0.1:6379/0',
    QUEUE_PREFIX: prefix,
    ALLOW_PRIVATE_PROVIDERS: String(allowPrivate),
  };
}

export async function runCliInProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (line: string) => out.push(line), err: (line: string) => err.push(line) };
  const context = new CliContext(io, env);
  try {
    const code = await runCli(args, () => context, io);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    await context.close();
  }
}
