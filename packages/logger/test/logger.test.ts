import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { createLogger, throttledLog, type LoggerOptions } from '../src/index.ts';

/** A logger writing into memory, and the JSON lines it wrote so far. */
function capture(options: Omit<LoggerOptions, 'stream'>) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const logger = createLogger({ ...options, stream });
  return {
    logger,
    lines: () =>
      text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('writes one JSON object per line, with the service, level and time on each', () => {
    const { logger, lines } = capture({ service: 'worker' });
    logger.info('sync succeeded', { provider: 'fever', upserted: 3 });
    logger.warn('payload shrank\nsuddenly');
    const [first, second] = lines();
    expect(lines()).toHaveLength(2);
    expect(first).toEqual({
      level: 'info',
      message: 'sync succeeded',
      service: 'worker',
      provider: 'fever',
      upserted: 3,
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(second).toMatchObject({ level: 'warn', message: 'payload shrank\nsuddenly' });
  });

  it('drops entries below its level', () => {
    const { logger, lines } = capture({ service: 'api', level: 'warn' });
    logger.info('hidden');
    logger.http('request');
    logger.warn('shown');
    logger.error('shown too');
    expect(lines().map((line) => line.message)).toEqual(['shown', 'shown too']);
    expect(logger.isLevelEnabled('http')).toBe(false);
  });

  it('carries a child’s context on every entry, beside the service', () => {
    const { logger, lines } = capture({ service: 'worker' });
    logger.child({ provider: 'fever', jobId: '42' }).info('fetching');
    expect(lines()[0]).toMatchObject({
      service: 'worker',
      provider: 'fever',
      jobId: '42',
      message: 'fetching',
    });
  });

  it('logs an Error with its message and stack', () => {
    const { logger, lines } = capture({ service: 'scheduler' });
    logger.error(new Error('boom'));
    expect(lines()[0]).toMatchObject({
      level: 'error',
      message: 'boom',
      stack: expect.stringContaining('Error: boom'),
    });
  });
});

describe('throttledLog', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('logs the first of a burst, then one line per interval saying how many it left out', () => {
    jest.useFakeTimers({ now: new Date('2026-12-07T10:00:00Z') });
    const { logger, lines } = capture({ service: 'worker' });
    const onError = throttledLog(logger, 'error', 'worker error', 10_000);
    // A connection retrying every 500 ms for 12 s, with its message changing on the way.
    for (let tick = 0; tick < 24; tick += 1) {
      onError(
        new Error(tick < 10 ? 'connect ECONNREFUSED 127.0.0.1:6379' : 'Connection is closed.'),
      );
      jest.advanceTimersByTime(500);
    }
    expect(
      lines().map(({ level, message, error, repeated }) => ({ level, message, error, repeated })),
    ).toEqual([
      {
        level: 'error',
        message: 'worker error',
        error: 'connect ECONNREFUSED 127.0.0.1:6379',
        repeated: undefined,
      },
      { level: 'error', message: 'worker error', error: 'Connection is closed.', repeated: 19 },
    ]);
    // After a quiet interval the next error is logged at once, with the 3 left out after the
    // previous line.
    jest.advanceTimersByTime(10_000);
    onError('Connection is closed.');
    expect(lines()).toHaveLength(3);
    expect(lines()[2]).toMatchObject({ error: 'Connection is closed.', repeated: 3 });
  });
});
