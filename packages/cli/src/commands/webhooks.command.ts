import type { Command } from 'commander';
import type { ChangeKind, WebhookRepository } from '@marquee/db';
import type { CliContext, CliIo } from '../cli.context.ts';
import { UsageError } from '../cli.errors.ts';
import { json, printList } from '../table.format.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KINDS: readonly ChangeKind[] = ['created', 'updated', 'cancelled', 'merged', 'deleted'];
const TEST_TIMEOUT_MS = 10_000;

function parseKinds(text: string | undefined): ChangeKind[] {
  if (text === undefined) return [...KINDS];
  const kinds = text.split(',').map((kind) => kind.trim());
  const unknown = kinds.filter((kind) => !KINDS.includes(kind as ChangeKind));
  if (kinds.length === 0 || unknown.length > 0) {
    throw new UsageError(`--events must be a comma-separated list of ${KINDS.join(', ')}`);
  }
  return [...new Set(kinds)] as ChangeKind[];
}

function endpointId(id: string): string {
  if (!UUID.test(id)) throw new UsageError('id must be an endpoint id as `webhooks list` shows it');
  return id.toLowerCase();
}

async function checkedUrl(text: string, allowPrivate: boolean): Promise<string> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError('url must be an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError('url must be an absolute http:// or https:// URL');
  }
  const { assertUrlAllowed } = await import('@marquee/fetch');
  try {
    await assertUrlAllowed(url.toString(), { allowPrivate, target: 'webhooks' });
  } catch (error) {
    throw new UsageError(`url: ${(error as Error).message}`);
  }
  return url.toString();
}

/** `marquee webhooks add|list|remove|test|failed|retry` (docs/webhooks.md). */
export function registerWebhooksCommand(
  program: Command,
  context: () => CliContext,
  io: CliIo,
): void {
  const webhooks = program
    .command('webhooks')
    .description('signed notifications of catalog changes');
  // Libraries are imported on use: `--help` loads none of them.
  const repository = async () => {
    const { WebhookRepository } = await import('@marquee/db');
    return new WebhookRepository(await context().db());
  };

  webhooks
    .command('add <url>')
    .description('add an endpoint; its signing secret is printed once')
    .option('--events <kinds>', `change kinds to send (default: all of ${KINDS.join(',')})`)
    .option('--provider <name>', "only this provider's events")
    .action(async (text: string, options: { events?: string; provider?: string }) => {
      const kinds = parseKinds(options.events);
      const url = await checkedUrl(text, context().env.ALLOW_PRIVATE_WEBHOOKS);
      const db = await context().db();
      const { ProviderRepository, WebhookRepository } = await import('@marquee/db');
      const { newWebhookSecret } = await import('@marquee/webhooks');
      if (options.provider !== undefined) {
        if (!(await new ProviderRepository(db).findByName(options.provider))) {
          throw new UsageError(`--provider: no provider named "${options.provider}"`);
        }
      }
      const secret = newWebhookSecret();
      const endpoint = await new WebhookRepository(db).add({
        url,
        secret,
        kinds,
        provider: options.provider ?? null,
      });
      io.out(secret);
      io.err(
        `added endpoint ${endpoint.id} for ${kinds.join(',')}; the secret above signs its ` +
          'messages (Standard Webhooks): store it now, it is not shown again',
      );
    });

  webhooks
    .command('list')
    .description('list endpoints with their health')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const list = await (await repository()).list();
      printList(io.out, list, {
        json: options.json,
        empty: 'no endpoints',
        line: (e) =>
          `${e.id}  ${e.url}  ${e.kinds.join(',')}${e.provider ? `  provider ${e.provider}` : ''}  ` +
          `pending ${e.pending}  delivered ${e.delivered}  failed ${e.failed}  last delivery ${
            e.lastDeliveredAt ? e.lastDeliveredAt.toISOString() : 'never'
          }` +
          (e.lastError ? `  last error: ${e.lastError}` : ''),
      });
    });

  webhooks
    .command('remove <id>')
    .description('remove an endpoint; its pending messages are dropped, nothing more is sent')
    .action(async (id: string) => {
      if (!(await (await repository()).remove(endpointId(id)))) {
        throw new UsageError(`no endpoint ${id}`);
      }
      io.out(`removed ${id}`);
    });

  webhooks
    .command('test <id>')
    .description('send a signed `webhook.test` message now and print the answer')
    .action((id: string) => sendTestMessage(context, io, id));

  registerDeadLetterCommands(webhooks, repository, io);
}

/** `webhooks failed|retry`: dead letters, and putting them back in line. */
function registerDeadLetterCommands(
  webhooks: Command,
  repository: () => Promise<WebhookRepository>,
  io: CliIo,
): void {
  webhooks
    .command('failed')
    .description('list dead letters: messages every attempt of which failed')
    .option('--endpoint <id>', "only this endpoint's")
    .option('--json', 'print JSON')
    .action(async (options: { endpoint?: string; json?: boolean }) => {
      const endpoint = options.endpoint === undefined ? undefined : endpointId(options.endpoint);
      const list = await (await repository()).failed(endpoint);
      if (options.json) return io.out(json(list));
      if (list.length === 0) return io.out('no failed messages');
      for (const m of list) {
        io.out(`${m.id}  ${m.url}  attempts ${m.attempts}  ${m.lastError ?? ''}`);
      }
    });

  webhooks
    .command('retry [message-ids...]')
    .description('send dead letters again (the given ones, or --endpoint, or --all)')
    .option('--endpoint <id>', 'every dead letter of this endpoint')
    .option('--all', 'every dead letter')
    .action(async (ids: string[], options: { endpoint?: string; all?: boolean }) => {
      const chosen = [ids.length > 0, options.endpoint !== undefined, options.all === true];
      if (chosen.filter(Boolean).length !== 1) {
        throw new UsageError('give message ids, or --endpoint <id>, or --all');
      }
      const count = await (
        await repository()
      ).retry({
        ...(ids.length > 0 ? { ids } : {}),
        ...(options.endpoint === undefined ? {} : { endpointId: endpointId(options.endpoint) }),
      });
      io.out(`${count} message(s) back in line; the scheduler enqueues them within seconds`);
    });
}

/** `webhooks test <id>`: a signed `webhook.test` message, sent now, outside the queue. */
async function sendTestMessage(context: () => CliContext, io: CliIo, id: string): Promise<void> {
  const { WebhookRepository } = await import('@marquee/db');
  const { postGuarded } = await import('@marquee/fetch');
  const { signedHeaders } = await import('@marquee/webhooks');
  const repository = new WebhookRepository(await context().db());
  const endpoint = await repository.find(endpointId(id));
  if (!endpoint) throw new UsageError(`no endpoint ${id}`);
  const messageId = `msg_test_${Date.now()}`;
  const body = JSON.stringify({
    type: 'webhook.test',
    timestamp: new Date().toISOString(),
    data: { endpoint_id: endpoint.id },
  });
  const answer = await postGuarded(endpoint.url, body, {
    headers: signedHeaders(endpoint.secret, messageId, body),
    timeoutMs: TEST_TIMEOUT_MS,
    addressPolicy: { allowPrivate: context().env.ALLOW_PRIVATE_WEBHOOKS, target: 'webhooks' },
  });
  io.out(`${endpoint.url} answered ${answer.status}`);
  if (answer.status < 200 || answer.status >= 300) {
    throw new Error(`the endpoint refused the test message: HTTP ${answer.status}`);
  }
}
