import winston from 'winston';

export type Logger = winston.Logger;

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Tests pass a stream to read what was logged; production logs JSON lines to stdout. */
  stream?: NodeJS.WritableStream;
}

/** JSON lines with `service` on every entry; add context with `logger.child({ provider, jobId })`. */
export function createLogger({ service, level = 'info', stream }: LoggerOptions): Logger {
  return winston.createLogger({
    level,
    defaultMeta: { service },
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
      winston.format.json(),
    ),
    transports: [
      stream
        ? new winston.transports.Stream({ stream })
        : new winston.transports.Console({ stderrLevels: ['error'] }),
    ],
  });
}
