import pg from 'pg';
import { throttledLog, type Logger } from '@marquee/logger';

/** Channel the init migration's trigger notifies on every change to `providers`. */
export const PROVIDERS_CHANGED_CHANNEL = 'marquee_providers_changed';

/**
 * LISTENs for provider changes on a dedicated connection and reconnects by itself. After every
 * (re)connection it reports a change too, since notifications sent while it was away are lost.
 */
export function listenForProviderChanges(
  databaseUrl: string,
  onChange: () => void,
  logger: Logger,
): { close(): Promise<void> } {
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  // It retries every second while PostgreSQL is down.
  const cannotConnect = throttledLog(logger, 'warn', 'provider change listener cannot connect');

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: databaseUrl });
    next.on('notification', () => onChange());
    next.on('error', (error) => {
      logger.warn('provider change listener lost its connection', { error: error.message });
      void next.end().catch(() => undefined);
      scheduleReconnect();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${PROVIDERS_CHANGED_CHANNEL}`);
    } catch (error) {
      cannotConnect(error);
      await next.end().catch(() => undefined);
      scheduleReconnect();
      return;
    }
    if (closed) {
      await next.end();
      return;
    }
    client = next;
    onChange();
  };

  const scheduleReconnect = (): void => {
    client = undefined;
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, 1_000);
  };

  void connect();
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
