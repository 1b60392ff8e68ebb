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

/**
 * A handler for errors that come in bursts (a connection retrying every few hundred ms while its
 * server is down): logs the first at `level`, then at most one line per `intervalMs`, each
 * saying how many were not logged since the previous line (`repeated`). A 10-second outage is
 * two lines, not forty.
 */
export function throttledLog(
  logger: Logger,
  level: 'error' | 'warn',
  message: string,
  intervalMs = 10_000,
): (error: unknown) => void {
  let last: number | undefined;
  let repeated = 0;
  return (error) => {
    const now = Date.now();
    if (last !== undefined && now - last < intervalMs) {
      repeated += 1;
      return;
    }
    last = now;
    logger.log(level, message, {
      error: error instanceof Error ? error.message : String(error),
      ...(repeated > 0 && { repeated }),
    });
    repeated = 0;
  };
}
