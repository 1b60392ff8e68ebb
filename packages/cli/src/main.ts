import { CliContext, type CliIo } from './cli.context.ts';
import { runCli } from './program.ts';

const io: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

let context: CliContext | undefined;
const code = await runCli(process.argv.slice(2), () => (context ??= new CliContext(io)), io);
await context?.close();
process.exitCode = code;
