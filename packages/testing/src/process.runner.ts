import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a TypeScript entry point of the repository as its own Node process, as `pnpm` would. */
export function runTs(
  entry: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<CommandResult> {
  return runNode(['--import', 'tsx', join(REPO_ROOT, entry), ...args], env, timeoutMs);
}

/**
 * The `marquee` command as users run it: its bin, which runs the CLI bundle (rebuilt first
 * when a source is newer).
 */
export function runMarquee(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<CommandResult> {
  return runNode([join(REPO_ROOT, 'packages/cli/bin/marquee.js'), ...args], env, timeoutMs);
}

/** Runs `node <args>` from the repository's root to its exit; collects its output. */
export function runNode(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<CommandResult> {
  const what = args.join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface LongRunning {
  child: ChildProcess;
  output: () => string;
  /** Sends SIGTERM and resolves with the exit code (SIGKILL after `deadlineMs`). */
  stop(deadlineMs?: number): Promise<number | null>;
}

/** Starts a long-running entry point (a service, `pnpm start`); collects its output. */
export function startTs(entry: string, env: NodeJS.ProcessEnv): LongRunning {
  return startNode(['--import', 'tsx', join(REPO_ROOT, entry)], env);
}

/** Starts `node <args>` from the repository's root (a built bundle, say); collects its output. */
export function startNode(args: readonly string[], env: NodeJS.ProcessEnv): LongRunning {
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return {
    child,
    output: () => output,
    async stop(deadlineMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * The kernel's ephemeral range (`ip_local_port_range`): listen(0) and outgoing connections of
 * every process on the machine take their ports from it.
 */
function ephemeralPorts(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low !== undefined && high !== undefined && low > 1024) return { low, high };
  } catch {
    // Not Linux: the IANA dynamic range, which macOS and Windows use.
  }
  return { low: 49152, high: 65535 };
}

const PORT_FLOOR = 10_000;

async function bindable(port: number): Promise<boolean> {
  const server = createServer();
  // No host: the wildcard address, which conflicts with a listener on any address.
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, () => resolve(true));
  });
  if (bound) await new Promise((resolve) => server.close(resolve));
  return bound;
}

/**
 * A port for a process the test starts later, which binds it itself. Picked below the ephemeral
 * range: a port listen(0) handed out would be free again once closed, and any server or outgoing
 * connection on the machine could take it before the process binds it; below the range only
 * another fixed port can.
 */
export async function freePort(): Promise<number> {
  const { low } = ephemeralPorts();
  const high = Math.max(PORT_FLOOR + 1_000, low - 1);
  for (let tries = 0; tries < 100; tries++) {
    const port = PORT_FLOOR + Math.floor(Math.random() * (high - PORT_FLOOR));
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port between ${PORT_FLOOR} and ${high}`);
}

/**
 * Polls `check` until it returns a value other than undefined. `what` names the condition in the
 * timeout's error; as a function it is read at the timeout, so it can show a process's output
 * as it was then, not when the wait began.
 */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string | (() => string),
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) {
      const named = typeof what === 'string' ? what : what();
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${named}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
