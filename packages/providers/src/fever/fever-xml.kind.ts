import { z } from 'zod';
import {
  singleDocumentKind,
  type IngestContext,
  type ParseResult,
} from '../kinds/provider-kind.ts';
import {
  streamOutcomes,
  type EventBatchSink,
  type StreamingProviderKind,
} from '../kinds/streaming-kind.ts';
import { feverXmlOutcomes, parseFeverXmlChunked } from './fever-chunked.parser.ts';
import { parseFeverXml } from './fever.parser.ts';

// `parse` (the whole-document parser) marks a single-document kind: the worker takes a 304 or an
// equal body of the provider's URL as an unchanged payload only for such a kind.
const wholeDocument = singleDocumentKind({
  kind: 'fever-xml',
  description:
    'Fever partner XML feed: <eventList> (base_event/event) or <planList> (base_plan/plan), zones with prices',
  // The feed's format is fixed: nothing to configure.
  configSchema: z.object({}).strict(),
  parse: (body, ctx) => parseFeverXml(body, ctx),
});

/**
 * The `fever-xml` kind, read slice by slice: `ingest` returns what the whole-document parser would,
 * without its memory peak or event-loop stall; `ingestStream` also hands events over as it goes.
 */
export const feverXml = {
  ...wholeDocument,
  async ingest({ url, timezone, fetch }: IngestContext<unknown>): Promise<ParseResult> {
    const { body } = await fetch(url);
    return parseFeverXmlChunked(body, { timezone });
  },
  async ingestStream({ url, timezone, fetch }: IngestContext<unknown>, sink: EventBatchSink) {
    const { body } = await fetch(url);
    return streamOutcomes(feverXmlOutcomes(body, { timezone }), sink);
  },
} satisfies StreamingProviderKind<unknown>;
