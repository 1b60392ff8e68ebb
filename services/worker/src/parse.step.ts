import {
  isStreamingKind,
  type EventBatchSink,
  type FetchPage,
  type ParseLimits,
  type ParseResult,
  type StreamedParse,
} from '@marquee/providers';
import type { Payload, PayloadSource } from './fetch.step.ts';
import type { PayloadStream } from './streamed.writer.ts';

/** A parse that returned its events whole hands them over as one batch. */
async function handOver(parsed: ParseResult, sink: EventBatchSink): Promise<StreamedParse> {
  if (parsed.events.length > 0) await sink(parsed.events);
  return {
    fetched: parsed.fetched,
    parsed: parsed.events.length,
    rejects: parsed.rejects,
    rejected: parsed.rejected,
  };
}

/** Serves the fetched document to the kind's first request of it; any other goes on to `fetch`. */
function replaying(url: string, page: Payload & { form: 'document' }): FetchPage {
  let served = false;
  return (requested, options) => {
    if (!served && requested === url) {
      served = true;
      return Promise.resolve(page.page);
    }
    return page.fetch(requested, options);
  };
}

/**
 * The parse, as a stream of event batches: every kind's payload reaches the writer this way. A
 * streaming kind hands batches over while it parses the fetched document; any other hands over
 * its whole result as one batch.
 */
export function streamOf(
  source: PayloadSource,
  payload: Payload,
  timezone: string,
  limits?: ParseLimits,
): PayloadStream {
  if (payload.form === 'pages') return (sink) => handOver(payload.parsed, sink);
  const context = {
    url: payload.url,
    config: source.config,
    timezone,
    fetch: replaying(payload.url, payload),
    limits,
  };
  const { kind } = source;
  if (isStreamingKind(kind)) return (sink) => kind.ingestStream(context, sink);
  return async (sink) => handOver(await kind.ingest(context), sink);
}
