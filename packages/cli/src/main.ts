import { CliContext, type CliIo } from './cli.context.ts';
import { describeError, EXIT } from './cli.errors.ts';
import { runCli } from './program.ts';

// On a terminal, progress rewrites one stderr line; whatever is printed next replaces it.
let statusShown = false;
const clearStatus = () => {
  if (statusShown) process.stderr.write('\r\x1b[K');
  statusShown = false;
};
const io: CliIo = {
  out: (line) => {
    clearStatus();
    process.stdout.write(`${line}\n`);
  },
  err: (line) => {
    clearStatus();
    process.stderr.write(`${line}\n`);
  },
  status: process.stderr.isTTY
    ? (line) => {
        process.stderr.write(`\r\x1b[K${line}`);
        statusShown = true;
      }
    : undefined,
};

// Anything a library throws outside a command's promise still ends as one line and exit 1.
const fatal = (error: unknown) => {
  io.err(`error: ${describeError(error)}`);
  process.exit(EXIT.failed);
};
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

let context: CliContext | undefined;
const code = await runCli(process.argv.slice(2), () => (context ??= new CliContext(io)), io);
await context?.close();
process.exitCode = code;
// A client that will not let go (a socket mid-reconnect) must not keep the command alive.
setTimeout(() => process.exit(code), 2_000).unref();
